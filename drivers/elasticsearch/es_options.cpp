#include "drivers/elasticsearch/es_options.hpp"

namespace osprof::detail::elasticsearch {

namespace {

// Index names as Elasticsearch accepts them: lowercase, no separators that break a URL path.
void check_index_name(const connection_string& cs, std::string_view option, const std::string& name) {
  if (name.empty()) cs.fail("option '" + std::string(option) + "' must not be empty");
  if (name.starts_with('-') || name.starts_with('_') || name.starts_with('+')) {
    cs.fail("option '" + std::string(option) + "': index name '" + name + "' must not start with -, _ or +");
  }
  for (const unsigned char c : name) {
    if ((c >= 'A' && c <= 'Z') || c == '\\' || c == '/' || c == '*' || c == '?' || c == '"' || c == '<' ||
        c == '>' || c == '|' || c == ' ' || c == ',' || c == '#' || c == ':' || c < 0x20) {
      cs.fail("option '" + std::string(option) + "': index name '" + name +
                        "' must be lowercase without \\ / * ? \" < > | , # : or spaces");
    }
  }
}

}  // namespace

es_options es_options::from(const connection_string& cs, std::chrono::milliseconds default_timeout) {
  es_options o;
  o.redacted = cs.redacted;
  o.endpoint = http::endpoint_options::parse(cs, backend, default_timeout,
                                             {"index", "error_index", "doc_type", "scroll", "scroll_size", "list_size",
                                              "keyword_subfields", "create_index", "refresh"});
  if (!cs.database().empty()) cs.fail("elasticsearch:// takes no path; name the index with ?index=");
  if (auto v = cs.param("index")) o.index = *v;
  if (auto v = cs.param("error_index")) o.error_index = *v;
  check_index_name(cs, "index", o.index);
  check_index_name(cs, "error_index", o.error_index);
  if (o.index == o.error_index) cs.fail("index and error_index must differ");
  if (auto v = cs.param("doc_type")) o.doc_type = *v;
  if (auto v = cs.param("scroll")) {
    o.scroll = *v;
    // A time unit as Elasticsearch writes it: digits then d, h, m, s, ms, micros or nanos.
    std::size_t digits = 0;
    while (digits < o.scroll.size() && o.scroll[digits] >= '0' && o.scroll[digits] <= '9') ++digits;
    const std::string unit = o.scroll.substr(digits);
    if (digits == 0 || (unit != "d" && unit != "h" && unit != "m" && unit != "s" && unit != "ms")) {
      cs.fail("option 'scroll' must be a time such as 2m, 90s or 1h, not '" + o.scroll + "'");
    }
  }
  if (auto v = cs.param_uint("scroll_size")) {
    if (*v == 0 || *v > 10000) cs.fail("option 'scroll_size' must be from 1 to 10000");
    o.scroll_size = static_cast<std::uint32_t>(*v);
  }
  if (auto v = cs.param_uint("list_size")) {
    if (*v == 0 || *v > 65536) cs.fail("option 'list_size' must be from 1 to 65536");
    o.list_size = static_cast<std::uint32_t>(*v);
  }
  if (auto v = cs.param_bool("keyword_subfields")) o.keyword_subfields = *v;
  if (auto v = cs.param_bool("create_index")) o.create_index = *v;
  if (auto v = cs.param("refresh")) {
    if (*v != "true" && *v != "false" && *v != "wait_for") {
      cs.fail("option 'refresh' must be true, false or wait_for, not '" + std::string(*v) + "'");
    }
    o.refresh = *v;
  }
  return o;
}

}  // namespace osprof::detail::elasticsearch
