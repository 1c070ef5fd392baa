#!/usr/bin/python3
"""Python OSProfiler's Elasticsearch driver (Debian's python3-osprofiler 3.4.3 on
python3-elasticsearch 7.17) writing one traced request, for osprof's interop test:

  python_es_peer.py write PORT    prints the trace's base id

As a service configured with `connection_string = elasticsearch://...` and
`filter_error_trace = True` writes it: one index request per event (doc_type
`notification`), the error document in osprofiler-notifications-error.
"""
import sys

from oslo_config import cfg
from osprofiler import notifier, opts, profiler
from osprofiler.drivers.elasticsearch_driver import ElasticsearchDriver


def main():
    if sys.argv[1] != "write":
        sys.exit("unknown command " + sys.argv[1])
    opts.set_defaults(cfg.CONF)
    cfg.CONF([], project="osprof-interop")
    cfg.CONF.set_override("filter_error_trace", True, "profiler")
    driver = ElasticsearchDriver("elasticsearch://127.0.0.1:%s" % sys.argv[2], project="pyproj",
                                 service="pyapi", host="pyhost", conf=cfg.CONF)
    notifier.set(driver.notify)
    profiler.init("K")
    base = profiler.get().get_base_id()
    with profiler.Trace("wsgi", info={"request": {"path": "/v2/servers", "query": "", "method": "POST",
                                                  "scheme": "http"}}):
        with profiler.Trace("db", info={"db": {"statement": "SELECT 1", "params": {}}}):
            pass
        try:
            with profiler.Trace("driver"):
                raise RuntimeError("no valid host was found")
        except RuntimeError:
            pass
    profiler.clean()
    print(base)


if __name__ == "__main__":
    main()
