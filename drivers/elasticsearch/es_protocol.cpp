#include "drivers/elasticsearch/es_protocol.hpp"

#include <cstring>
#include <stdexcept>

#include <simdjson.h>

#include "common/json_writer.hpp"
#include "common/text.hpp"

namespace osprof::detail::elasticsearch {

namespace {

// `id` makes the write idempotent: a batch sent again after a lost answer replaces its
// documents instead of adding them twice.
void append_action_line(std::string& body, const std::string& index, std::string_view id, std::string_view doc_type) {
  body += "{\"index\":{\"_index\":";
  append_json_string(body, index);
  body += ",\"_id\":\"";
  body += id;
  body += '"';
  if (!doc_type.empty()) {
    body += ",\"_type\":";
    append_json_string(body, doc_type);
  }
  body += "}}\n";
}

std::string text_of(simdjson::dom::element e) {
  std::string_view s;
  if (!e.get_string().get(s)) return std::string(s);
  return simdjson::minify(e);
}


}  // namespace

std::vector<bulk_action> plan_actions(std::span<const event_record> batch, bool filter_error_trace) {
  std::vector<bulk_action> actions;
  actions.reserve(batch.size());
  for (std::uint32_t i = 0; i < batch.size(); ++i) {
    actions.push_back({i, false});
    if (filter_error_trace && batch[i].has_error) actions.push_back({i, true});
  }
  return actions;
}

std::string encode_bulk(std::span<const event_record> batch, std::span<const bulk_action> actions,
                        const es_options& options, std::string_view doc_type) {
  std::string body;
  std::size_t size = 0;
  for (const auto& a : actions) size += batch[a.event].json.size() + options.index.size() + 48;
  body.reserve(size);
  for (const auto& a : actions) {
    const event_record& e = batch[a.event];
    char id[uuid_text_size + 6];
    if (a.error_doc) {
      // One error document per trace (the latest error), as Redis's osprofiler_error:<base_id>.
      e.base_id.format(id);
      append_action_line(body, options.error_index, std::string_view(id, uuid_text_size), doc_type);
      // OSProfiler's notify_error_trace document, with Python's separators.
      body += "{\"base_id\": \"";
      body.append(id, uuid_text_size);
      body += "\", \"timestamp\": \"";
      body += e.timestamp_text();
      body += "\"}\n";
    } else {
      e.trace_id.format(id);
      std::memcpy(id + uuid_text_size, e.is_stop ? "-stop" : "-start", e.is_stop ? 5 : 6);
      append_action_line(body, options.index, std::string_view(id, uuid_text_size + (e.is_stop ? 5 : 6)), doc_type);
      body += e.json;
      body += '\n';
    }
  }
  return body;
}

bulk_response parse_bulk_response(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc)) {
    throw std::runtime_error("the _bulk answer is not JSON: '" + excerpt(body) + "'");
  }
  bulk_response r;
  simdjson::dom::element items_value;
  simdjson::dom::array items;
  if (doc.at_pointer("/items").get(items_value) || items_value.get_array().get(items)) {
    throw std::runtime_error("the _bulk answer has no items: '" + excerpt(body) + "'");
  }
  simdjson::dom::element errors;
  if (!doc.at_pointer("/errors").get(errors)) r.errors = errors.is_bool() && errors.get_bool().value_unsafe();
  for (simdjson::dom::element item : items) {
    simdjson::dom::object op;
    if (item.get_object().get(op) || op.size() != 1) {
      throw std::runtime_error("a _bulk item is not {\"<action>\": {...}}: '" + excerpt(body) + "'");
    }
    const simdjson::dom::element result = (*op.begin()).value;
    bulk_item out;
    simdjson::dom::element status;
    std::uint64_t code = 0;
    if (result.at_pointer("/status").get(status) || status.get_uint64().get(code)) {
      throw std::runtime_error("a _bulk item has no status");
    }
    out.status = static_cast<unsigned>(code);
    simdjson::dom::element err;
    if (!result.at_pointer("/error").get(err)) {
      std::string_view type, reason;
      if (!err.at_pointer("/type").get(type)) {
        out.error = std::string(type);
        if (!err.at_pointer("/reason").get(reason)) out.error += ": " + std::string(reason);
      } else {
        out.error = text_of(err);
      }
    } else if (out.status >= 300) {
      out.error = "status " + std::to_string(out.status);
    }
    r.items.push_back(std::move(out));
  }
  return r;
}

server_info parse_server_info(std::string_view body) {
  server_info info;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view number, distribution;
  if (parser.parse(body.data(), body.size()).get(doc) || doc.at_pointer("/version/number").get(number)) return info;
  if (!doc.at_pointer("/version/distribution").get(distribution)) info.opensearch = distribution == "opensearch";
  // "7.17.9", "8.11.0-SNAPSHOT": the major and minor numbers are what matter.
  const auto read = [&](std::size_t& at, int& out) {
    const std::size_t start = at;
    out = 0;
    while (at < number.size() && number[at] >= '0' && number[at] <= '9' && at - start < 6) out = out * 10 + (number[at++] - '0');
    return at > start;
  };
  std::size_t at = 0;
  if (!read(at, info.major)) return info;
  if (at < number.size() && number[at] == '.') {
    ++at;
    read(at, info.minor);
  }
  info.known = true;
  info.name = (info.opensearch ? "OpenSearch " : "Elasticsearch ") + std::string(number);
  return info;
}

query_fields fields_from_mapping(std::string_view body) {
  query_fields fields;
  simdjson::dom::parser parser;
  simdjson::dom::element doc, mappings, properties;
  simdjson::dom::object root, typed;
  if (parser.parse(body.data(), body.size()).get(doc) || doc.get_object().get(root) || root.size() == 0) return fields;
  // {"<index>": {"mappings": ...}}: the concrete index (the name asked for may be an alias).
  if ((*root.begin()).value.at_pointer("/mappings").get(mappings)) return fields;
  if (mappings.at_pointer("/properties").get(properties)) {
    // 5.x/6.x (and typed answers): {"mappings": {"<type>": {"properties": ...}}}.
    if (mappings.get_object().get(typed) || typed.size() == 0 ||
        (*typed.begin()).value.at_pointer("/properties").get(properties)) {
      return fields;
    }
  }
  const auto field = [&](const char* name, std::string& out) {
    simdjson::dom::element m, subfields;
    std::string_view type;
    if (properties.at_key(name).get(m) || m.at_pointer("/type").get(type) || type != "text") return;
    simdjson::dom::object subs;
    if (m.at_pointer("/fields").get(subfields) || subfields.get_object().get(subs)) return;
    for (const auto sub : subs) {
      std::string_view sub_type;
      if (!sub.value.at_pointer("/type").get(sub_type) && sub_type == "keyword") {
        out = std::string(name) + "." + std::string(sub.key);
        return;
      }
    }
  };
  field("base_id", fields.id);
  field("timestamp", fields.time);
  return fields;
}

std::string index_mapping(bool error_index, std::string_view doc_type, bool date_nanos) {
  const std::string time_type = date_nanos
                                    ? "{\"type\":\"date_nanos\",\"format\":\"strict_date_optional_time_nanos\"}"
                                    : "{\"type\":\"date\",\"format\":\"strict_date_optional_time\"}";
  std::string properties = "{\"base_id\":{\"type\":\"keyword\"},\"timestamp\":" + time_type;
  if (!error_index) {
    properties +=
        ",\"trace_id\":{\"type\":\"keyword\"},\"parent_id\":{\"type\":\"keyword\"},\"name\":{\"type\":\"keyword\"},"
        "\"project\":{\"type\":\"keyword\"},\"service\":{\"type\":\"keyword\"},"
        "\"info\":{\"type\":\"object\",\"enabled\":false}";
  }
  properties += "}";
  std::string mappings = "{\"properties\":" + properties + "}";
  if (!doc_type.empty()) {
    std::string typed = "{";
    append_json_string(typed, doc_type);
    typed += ":" + mappings + "}";
    mappings = std::move(typed);
  }
  return "{\"mappings\":" + mappings + "}";
}

std::string trace_query(const es_options& options, const query_fields& fields, std::string_view base_id) {
  std::string body = "{\"size\":" + std::to_string(options.scroll_size) +
                     ",\"query\":{\"bool\":{\"filter\":[{\"term\":{";
  append_json_string(body, fields.id);
  body += ":";
  append_json_string(body, base_id);
  // _doc order: the cheapest for scrolling; the report orders events itself.
  body += "}}]}},\"sort\":[\"_doc\"]}";
  return body;
}

std::string scroll_request(const es_options& options, std::string_view scroll_id) {
  std::string body = "{\"scroll\":";
  append_json_string(body, options.scroll);
  body += ",\"scroll_id\":";
  append_json_string(body, scroll_id);
  body += "}";
  return body;
}

std::string clear_scroll_request(std::string_view scroll_id) {
  std::string body = "{\"scroll_id\":[";
  append_json_string(body, scroll_id);
  body += "]}";
  return body;
}

search_page parse_search_page(std::string_view body) {
  simdjson::padded_string padded(body);
  simdjson::ondemand::parser parser;
  search_page page;
  try {
    simdjson::ondemand::document doc = parser.iterate(padded);
    simdjson::ondemand::object root = doc.get_object();
    for (auto field : root) {
      const std::string_view key = field.unescaped_key();
      if (key == "_scroll_id") {
        page.scroll_id = std::string(std::string_view(field.value().get_string()));
      } else if (key == "hits") {
        simdjson::ondemand::object hits = field.value().get_object();
        for (auto h : hits) {
          if (std::string_view(h.unescaped_key()) != "hits") continue;
          for (auto hit : h.value().get_array()) {
            simdjson::ondemand::object o = hit.get_object();
            simdjson::ondemand::value source = o.find_field_unordered("_source");
            // The stored bytes exactly as they were indexed (Elasticsearch keeps _source as sent).
            std::string_view raw = simdjson::to_json_string(source);
            while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) {
              raw.remove_suffix(1);
            }
            page.sources.emplace_back(raw);
          }
        }
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    throw std::runtime_error(std::string("the search answer is not valid (") + e.what() + "): '" + excerpt(body) + "'");
  }
  return page;
}

std::string list_query(const es_options& options, const query_fields& fields, std::span<const std::string> only,
                       bool track_total_hits) {
  std::string body = track_total_hits ? "{\"size\":0,\"track_total_hits\":false" : "{\"size\":0";
  if (!only.empty()) {
    body += ",\"query\":{\"bool\":{\"filter\":[{\"terms\":{";
    append_json_string(body, fields.id);
    body += ":[";
    for (std::size_t i = 0; i < only.size(); ++i) {
      if (i != 0) body += ',';
      append_json_string(body, only[i]);
    }
    body += "]}}]}}";
  }
  body += ",\"aggs\":{\"traces\":{\"terms\":{\"field\":";
  append_json_string(body, fields.id);
  body += ",\"size\":" + std::to_string(only.empty() ? options.list_size : only.size());
  // Newest first by the earliest event (a min on the date). A timestamp mapped as text (an
  // index with date detection off) has no min: its buckets come by count, and the caller
  // orders the rows by their start times.
  if (fields.time == "timestamp") {
    body += ",\"order\":{\"first\":\"desc\"}},\"aggs\":{\"first\":{\"min\":{\"field\":\"timestamp\"}},";
  } else {
    body += "},\"aggs\":{";
  }
  body += "\"start\":{\"top_hits\":{\"size\":1,\"sort\":[{";
  append_json_string(body, fields.time);
  body += ":{\"order\":\"asc\"}}],\"_source\":[\"timestamp\"]}}}}}}";
  return body;
}

namespace {

// The buckets of the "traces" aggregation; throws std::runtime_error when the answer has none.
simdjson::dom::array trace_buckets(simdjson::dom::parser& parser, std::string_view body) {
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc)) {
    throw std::runtime_error("the aggregation answer is not JSON: '" + excerpt(body) + "'");
  }
  simdjson::dom::element buckets_value;
  simdjson::dom::array buckets;
  if (doc.at_pointer("/aggregations/traces/buckets").get(buckets_value) || buckets_value.get_array().get(buckets)) {
    throw std::runtime_error("the aggregation answer has no traces buckets: '" + excerpt(body) + "'");
  }
  return buckets;
}

}  // namespace

std::vector<trace_summary> parse_list_response(std::string_view body) {
  simdjson::dom::parser parser;
  const simdjson::dom::array buckets = trace_buckets(parser, body);
  std::vector<trace_summary> out;
  for (simdjson::dom::element b : buckets) {
    std::string_view key, ts;
    if (b.at_pointer("/key").get(key)) continue;
    simdjson::dom::element hits_value, first;
    simdjson::dom::array hits;
    if (b.at_pointer("/start/hits/hits").get(hits_value) || hits_value.get_array().get(hits)) continue;
    if (hits.at(0).get(first) || first.at_pointer("/_source/timestamp").get(ts)) continue;
    out.push_back({std::string(key), std::string(ts)});
  }
  return out;
}

std::string error_ids_query(const es_options& options, const query_fields& fields, bool track_total_hits) {
  std::string body = track_total_hits ? "{\"size\":0,\"track_total_hits\":false" : "{\"size\":0";
  body += ",\"aggs\":{\"traces\":{\"terms\":{\"field\":";
  append_json_string(body, fields.id);
  body += ",\"size\":" + std::to_string(options.list_size) + "}}}}";
  return body;
}

std::vector<std::string> parse_bucket_keys(std::string_view body) {
  simdjson::dom::parser parser;
  const simdjson::dom::array buckets = trace_buckets(parser, body);
  std::vector<std::string> keys;
  for (simdjson::dom::element b : buckets) {
    std::string_view key;
    if (!b.at_pointer("/key").get(key)) keys.emplace_back(key);
  }
  return keys;
}

std::string error_summary(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!parser.parse(body.data(), body.size()).get(doc)) {
    simdjson::dom::element err;
    if (!doc.at_pointer("/error").get(err)) {
      std::string_view type, reason;
      if (!err.at_pointer("/type").get(type)) {
        std::string out(type);
        if (!err.at_pointer("/reason").get(reason)) out += ": " + std::string(reason);
        return out;
      }
      return text_of(err);
    }
  }
  std::string quoted = "'";  // appended, not `"'" + ...`: GCC 12 warns falsely (-Wrestrict) on that
  quoted += excerpt(body);
  quoted += '\'';
  return quoted;
}

http::request json_request(std::string method, std::string target, std::string body) {
  http::request req;
  req.method = std::move(method);
  req.target = std::move(target);
  req.body = std::move(body);
  if (!req.body.empty()) req.content_type = "application/json";
  return req;
}

bool error_is(std::string_view body, std::string_view type) {
  return error_summary(body).starts_with(std::string(type) + ":") || error_summary(body) == type;
}

}  // namespace osprof::detail::elasticsearch
