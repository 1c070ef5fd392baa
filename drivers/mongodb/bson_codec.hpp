// Events as MongoDB documents and back, as Python OSProfiler's driver stores them: the
// notification (name, ids, timestamp, info, project, service) as a BSON document in that
// order, the worker's JSON order (the event's columns are taken as they are; only info is
// parsed), integers as int32 when they fit and int64 otherwise (as pymongo encodes Python
// ints), plus a deterministic `_id` so a batch sent again stores nothing twice. Reading turns a
// document back into the JSON text osprof stores everywhere (Python's ", " and ": "), so an
// event osprof wrote reads back byte for byte.
#pragma once

#include <bson/bson.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include <osprof/driver.hpp>

namespace osprof::detail::mongodb {

/// `<trace_id>-start` or `<trace_id>-stop`: one per event of a trace point.
std::string event_id(const event_record& e);

/// One per writer: `project` and `service` are the emitter's, as in every event's JSON.
class event_encoder {
 public:
  event_encoder(std::string project, std::string service) : project_(std::move(project)), service_(std::move(service)) {
    bson_init(&doc_);
  }
  ~event_encoder() { bson_destroy(&doc_); }
  event_encoder(const event_encoder&) = delete;
  event_encoder& operator=(const event_encoder&) = delete;

  /// Appends the event's document to `out`; returns its size, or 0 with `error` set when the
  /// event cannot be a BSON document (a key with a NUL character, a number beyond 64 bits).
  std::size_t append(const event_record& e, std::vector<std::uint8_t>& out, std::string& error);

 private:
  bool append_value(bson_t* doc, std::string_view key, simdjson::dom::element value, std::string& error);
  std::string_view id_text(int slot, const uuid& value);

  struct formatted_id {
    uuid value{};
    char text[uuid_text_size];
    bool valid = false;
  };
  formatted_id ids_[3];  ///< trace_id, base_id, parent_id

  std::string project_;
  std::string service_;
  simdjson::dom::parser parser_;
  bson_t doc_;
};

/// The document as JSON text in Python's json.dumps style, keys in stored order, without
/// `_id`. Types JSON lacks (ObjectId, dates, binary, ...) become libmongoc's relaxed Extended
/// JSON for the value.
std::string document_json(const bson_t* doc);

}  // namespace osprof::detail::mongodb
