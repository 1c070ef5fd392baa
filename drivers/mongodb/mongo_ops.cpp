#include "drivers/mongodb/mongo_ops.hpp"

#include <algorithm>
#include <cstring>
#include <map>

#include "drivers/mongodb/bson_codec.hpp"

namespace osprof::detail::mongodb {

namespace {

std::string str(const bson_iter_t& it) {
  if (!BSON_ITER_HOLDS_UTF8(&it)) return {};
  uint32_t n = 0;
  const char* s = bson_iter_utf8(&it, &n);
  return {s, n};
}

std::int64_t integer(const bson_iter_t& it) {
  if (BSON_ITER_HOLDS_INT32(&it)) return bson_iter_int32(&it);
  if (BSON_ITER_HOLDS_INT64(&it)) return bson_iter_int64(&it);
  if (BSON_ITER_HOLDS_DOUBLE(&it)) return static_cast<std::int64_t>(bson_iter_double(&it));
  return -1;
}

// One createIndexes command; "already exists" in any form is fine.
std::optional<failure> create_index(mongo_client& client, const char* collection, const bson_t* key, const char* name) {
  bson_t command = BSON_INITIALIZER;
  BSON_APPEND_UTF8(&command, "createIndexes", collection);
  bson_t indexes, index;
  BSON_APPEND_ARRAY_BEGIN(&command, "indexes", &indexes);
  BSON_APPEND_DOCUMENT_BEGIN(&indexes, "0", &index);
  BSON_APPEND_DOCUMENT(&index, "key", key);
  BSON_APPEND_UTF8(&index, "name", name);
  bson_append_document_end(&indexes, &index);
  bson_append_array_end(&command, &indexes);
  failure problem;
  mongoc_client_t* c = client.get(problem);
  if (c == nullptr) return problem;
  mongoc_database_t* db = mongoc_client_get_database(c, client.options().database.c_str());
  bson_error_t error{};
  bson_t reply;
  const bool ok = mongoc_database_write_command_with_opts(db, &command, nullptr, &reply, &error);
  bson_destroy(&reply);
  bson_destroy(&command);
  mongoc_database_destroy(db);
  if (ok) return std::nullopt;
  return client.judge(error, std::string("creating index ") + name + " on " + collection);
}

std::optional<failure> ensure_indexes(mongo_client& client) {
  bson_t key = BSON_INITIALIZER;
  BSON_APPEND_INT32(&key, "base_id", 1);
  BSON_APPEND_INT32(&key, "timestamp", 1);
  auto f = create_index(client, std::string(events_collection).c_str(), &key, events_index_name);
  bson_destroy(&key);
  if (f) return f;
  bson_t error_key = BSON_INITIALIZER;
  BSON_APPEND_INT32(&error_key, "base_id", 1);
  f = create_index(client, std::string(errors_collection).c_str(), &error_key, errors_index_name);
  bson_destroy(&error_key);
  return f;
}

// Reading: the cursor's documents through `each`; a failure, or nothing.
template <typename Each>
std::optional<failure> drain(mongo_client& client, mongoc_cursor_t* cursor, std::string_view what, Each&& each) {
  const bson_t* doc = nullptr;
  while (mongoc_cursor_next(cursor, &doc)) each(doc);
  bson_error_t error{};
  std::optional<failure> f;
  if (mongoc_cursor_error(cursor, &error)) f = client.judge(error, what);
  mongoc_cursor_destroy(cursor);
  if (f && (f->kind == failure_kind::retry || !f->answered)) client.reset();
  return f;
}

// The first event's timestamp of each trace: `$sort` by the index's keys then `$group` with
// `$first` is the shape MongoDB answers from the {base_id, timestamp} index (one index entry
// per trace, a DISTINCT_SCAN) instead of reading every event.
void append_first_event_stages(bson_t* pipeline, std::uint32_t& stage) {
  char buf[16];
  const char* key = nullptr;
  bson_t doc, inner, group, first;
  bson_uint32_to_string(stage++, &key, buf, sizeof buf);
  BSON_APPEND_DOCUMENT_BEGIN(pipeline, key, &doc);
  BSON_APPEND_DOCUMENT_BEGIN(&doc, "$sort", &inner);
  BSON_APPEND_INT32(&inner, "base_id", 1);
  BSON_APPEND_INT32(&inner, "timestamp", 1);
  bson_append_document_end(&doc, &inner);
  bson_append_document_end(pipeline, &doc);
  bson_uint32_to_string(stage++, &key, buf, sizeof buf);
  BSON_APPEND_DOCUMENT_BEGIN(pipeline, key, &doc);
  BSON_APPEND_DOCUMENT_BEGIN(&doc, "$group", &group);
  BSON_APPEND_UTF8(&group, "_id", "$base_id");
  BSON_APPEND_DOCUMENT_BEGIN(&group, "timestamp", &first);
  BSON_APPEND_UTF8(&first, "$first", "$timestamp");
  bson_append_document_end(&group, &first);
  bson_append_document_end(&doc, &group);
  bson_append_document_end(pipeline, &doc);
}

std::optional<failure> first_events(mongo_client& client, const std::vector<std::string>* only,
                                    std::vector<trace_summary>& out) {
  failure problem;
  mongoc_client_t* c = client.get(problem);
  if (c == nullptr) return problem;
  bson_t pipeline = BSON_INITIALIZER;
  std::uint32_t stage = 0;
  if (only != nullptr) {
    bson_t match, filter, in, ids;
    BSON_APPEND_DOCUMENT_BEGIN(&pipeline, "0", &match);
    ++stage;
    BSON_APPEND_DOCUMENT_BEGIN(&match, "$match", &filter);
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "base_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &ids);
    for (std::size_t i = 0; i < only->size(); ++i) {
      char buf[16];
      const char* key = nullptr;
      bson_uint32_to_string(static_cast<std::uint32_t>(i), &key, buf, sizeof buf);
      BSON_APPEND_UTF8(&ids, key, (*only)[i].c_str());
    }
    bson_append_array_end(&in, &ids);
    bson_append_document_end(&filter, &in);
    bson_append_document_end(&match, &filter);
    bson_append_document_end(&pipeline, &match);
  }
  append_first_event_stages(&pipeline, stage);
  bson_t opts = BSON_INITIALIZER;
  BSON_APPEND_BOOL(&opts, "allowDiskUse", true);
  mongoc_cursor_t* cursor =
      mongoc_collection_aggregate(client.collection(events_collection), MONGOC_QUERY_NONE, &pipeline, &opts, nullptr);
  bson_destroy(&pipeline);
  bson_destroy(&opts);
  return drain(client, cursor, "listing traces", [&](const bson_t* doc) {
    trace_summary row;
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc, "_id")) row.base_id = str(it);
    if (bson_iter_init_find(&it, doc, "timestamp")) row.timestamp = str(it);
    if (!row.base_id.empty()) out.push_back(std::move(row));
  });
}

void newest_first(std::vector<trace_summary>& rows) {
  std::stable_sort(rows.begin(), rows.end(), [](const trace_summary& a, const trace_summary& b) {
    return a.timestamp != b.timestamp ? a.timestamp > b.timestamp : a.base_id < b.base_id;
  });
}

}  // namespace

insert_result run_insert(mongo_client& client, const insert_request& request) {
  insert_result r;
  const std::size_t n = request.offsets.size();
  r.docs.assign(n, doc_outcome::unknown);
  r.reasons.resize(n);
  failure problem;
  if (client.get(problem) == nullptr) {
    r.command = std::move(problem);
    return r;
  }
  if (request.ensure_indexes && !client.indexes_done) {
    if (auto f = ensure_indexes(client)) {
      if (!f->answered || f->kind == failure_kind::retry) {
        // Not the index but the server (down, TLS, credentials): the insert would fail the
        // same way. A fresh client next time: no cooldown of a single-threaded one.
        client.reset();
        r.command = std::move(*f);
        return r;
      }
      r.note = f->message + "; writing without it (reading large collections will be slow; see drivers/mongodb/README.md)";
    }
    client.indexes_done = true;
  }

  struct static_doc {
    bson_t doc;
  };
  std::vector<static_doc> docs(n);
  std::vector<const static_doc*> pointers(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* at = request.data.data() + request.offsets[i];
    std::uint32_t size = 0;
    std::memcpy(&size, at, 4);  // little-endian, as BSON is and as this machine is
    bson_init_static(&docs[i].doc, at, size);
    pointers[i] = &docs[i];
  }
  bson_t opts = BSON_INITIALIZER;
  BSON_APPEND_BOOL(&opts, "ordered", false);
  // The server judges field names (MongoDB 5.0+ takes dots and dollars inside documents);
  // libmongoc's check would refuse the whole batch for one such key in one event's info.
  BSON_APPEND_BOOL(&opts, "validate", false);
  bson_t reply;
  bson_error_t error{};
  const bool ok = mongoc_collection_insert_many(client.collection(events_collection), reinterpret_cast<const bson_t**>(pointers.data()), n, &opts,
                                                &reply, &error);
  bson_destroy(&opts);

  // Per-document errors, and whether the write concern failed.
  bool has_write_errors = false, has_concern_errors = false;
  bson_iter_t it, list;
  if (bson_iter_init_find(&it, &reply, "writeErrors") && BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &list)) {
    while (bson_iter_next(&list)) {
      bson_iter_t item;
      if (!BSON_ITER_HOLDS_DOCUMENT(&list) || !bson_iter_recurse(&list, &item)) continue;
      std::int64_t index = -1, code = -1;
      std::string message;
      while (bson_iter_next(&item)) {
        const char* key = bson_iter_key(&item);
        if (std::strcmp(key, "index") == 0) index = integer(item);
        if (std::strcmp(key, "code") == 0) code = integer(item);
        if (std::strcmp(key, "errmsg") == 0) message = str(item);
      }
      if (index < 0 || static_cast<std::size_t>(index) >= n) continue;
      has_write_errors = true;
      const auto i = static_cast<std::size_t>(index);
      r.docs[i] = code == 11000 ? doc_outcome::duplicate
                  : retryable_server_code(code) ? doc_outcome::retry
                                                : doc_outcome::refused;
      r.reasons[i] = client.options().scrub("code " + std::to_string(code) + ": " + message);
      if (r.docs[i] == doc_outcome::retry && !r.retry_why) r.retry_why = "mongodb: the server asks to resend: " + r.reasons[i];
    }
  }
  std::string concern_error;
  if (bson_iter_init_find(&it, &reply, "writeConcernErrors") && BSON_ITER_HOLDS_ARRAY(&it) &&
      bson_iter_recurse(&it, &list) && bson_iter_next(&list)) {
    has_concern_errors = true;
    bson_iter_t item;
    if (BSON_ITER_HOLDS_DOCUMENT(&list) && bson_iter_recurse(&list, &item)) {
      std::int64_t code = -1;
      std::string message;
      while (bson_iter_next(&item)) {
        if (std::strcmp(bson_iter_key(&item), "code") == 0) code = integer(item);
        if (std::strcmp(bson_iter_key(&item), "errmsg") == 0) message = str(item);
      }
      concern_error = "code " + std::to_string(code) + ": " + message;
    }
  }
  bson_destroy(&reply);

  // The command ran when its only errors are the documents' own (libmongoc then reports the
  // first, or "Multiple write errors") and the write concern's.
  const bool completed = ok || ((has_write_errors || has_concern_errors) &&
                                (error.domain == MONGOC_ERROR_SERVER || error.domain == MONGOC_ERROR_WRITE_CONCERN));
  if (!completed) {
    // Nothing is known of the documents without an error of their own.
    r.command = client.judge(error, "inserting " + std::to_string(n) + " events");
    if (r.command->kind == failure_kind::retry || !r.command->answered) client.reset();
    return r;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (has_concern_errors) {
      // On the primary, not confirmed by the write concern (a duplicate of an earlier attempt
      // neither): sent again until it holds, when they come back as duplicates of their ids.
      if (r.docs[i] == doc_outcome::duplicate) r.docs[i] = doc_outcome::unknown;
      continue;
    }
    if (r.docs[i] == doc_outcome::unknown) r.docs[i] = doc_outcome::stored;
  }
  if (has_concern_errors && !r.retry_why) {
    r.retry_why = "mongodb: the write concern was not satisfied (" + client.options().scrub(concern_error) +
                  "); the events are sent again until it is (" + client.options().redacted + ")";
  }
  return r;
}

std::optional<failure> run_flag_errors(mongo_client& client, const std::vector<error_flag>& flags) {
  failure problem;
  if (client.get(problem) == nullptr) return problem;
  bson_t opts = BSON_INITIALIZER;
  BSON_APPEND_BOOL(&opts, "ordered", false);
  mongoc_bulk_operation_t* bulk =
      mongoc_collection_create_bulk_operation_with_opts(client.collection(errors_collection), &opts);
  bson_destroy(&opts);
  bson_t upsert = BSON_INITIALIZER;
  BSON_APPEND_BOOL(&upsert, "upsert", true);
  for (const auto& flag : flags) {
    bson_t selector = BSON_INITIALIZER, doc = BSON_INITIALIZER;
    BSON_APPEND_UTF8(&selector, "base_id", flag.base_id.c_str());
    BSON_APPEND_UTF8(&doc, "base_id", flag.base_id.c_str());
    BSON_APPEND_UTF8(&doc, "timestamp", flag.timestamp.c_str());
    bson_error_t error{};
    mongoc_bulk_operation_replace_one_with_opts(bulk, &selector, &doc, &upsert, &error);
    bson_destroy(&selector);
    bson_destroy(&doc);
  }
  bson_destroy(&upsert);
  bson_t reply;
  bson_error_t error{};
  const bool ok = mongoc_bulk_operation_execute(bulk, &reply, &error) != 0;
  bson_destroy(&reply);
  mongoc_bulk_operation_destroy(bulk);
  if (ok) return std::nullopt;
  auto f = client.judge(error, "flagging " + std::to_string(flags.size()) + " traces with errors in profiler_error");
  if (f.kind == failure_kind::retry || !f.answered) client.reset();
  return f;
}

read_result run_read_trace(mongo_client& client, const std::string& base_id) {
  read_result r;
  failure problem;
  if (client.get(problem) == nullptr) {
    r.problem = std::move(problem);
    return r;
  }
  bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, projection;
  BSON_APPEND_UTF8(&filter, "base_id", base_id.c_str());
  BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &projection);
  BSON_APPEND_INT32(&projection, "_id", 0);
  bson_append_document_end(&opts, &projection);
  mongoc_cursor_t* cursor =
      mongoc_collection_find_with_opts(client.collection(events_collection), &filter, &opts, nullptr);
  bson_destroy(&filter);
  bson_destroy(&opts);
  r.problem = drain(client, cursor, "reading trace " + base_id, [&](const bson_t* doc) { r.events.push_back(document_json(doc)); });
  return r;
}

read_result run_list_traces(mongo_client& client) {
  read_result r;
  r.problem = first_events(client, nullptr, r.traces);
  newest_first(r.traces);
  return r;
}

read_result run_list_error_traces(mongo_client& client) {
  read_result r;
  failure problem;
  if (client.get(problem) == nullptr) {
    r.problem = std::move(problem);
    return r;
  }
  // The flagged traces (Python keeps the error event's time there), then each one's first
  // event, as `list` shows it.
  std::map<std::string, std::string> flagged;
  bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, projection;
  BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &projection);
  BSON_APPEND_INT32(&projection, "_id", 0);
  bson_append_document_end(&opts, &projection);
  mongoc_cursor_t* cursor =
      mongoc_collection_find_with_opts(client.collection(errors_collection), &filter, &opts, nullptr);
  bson_destroy(&filter);
  bson_destroy(&opts);
  r.problem = drain(client, cursor, "listing error traces", [&](const bson_t* doc) {
    bson_iter_t it;
    std::string base_id, timestamp;
    if (bson_iter_init_find(&it, doc, "base_id")) base_id = str(it);
    if (bson_iter_init_find(&it, doc, "timestamp")) timestamp = str(it);
    if (!base_id.empty()) flagged.emplace(std::move(base_id), std::move(timestamp));
  });
  if (r.problem) return r;
  std::vector<std::string> ids;
  for (const auto& [id, ts] : flagged) ids.push_back(id);
  for (std::size_t from = 0; from < ids.size(); from += 1000) {
    std::vector<std::string> chunk(ids.begin() + static_cast<std::ptrdiff_t>(from),
                                   ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), from + 1000)));
    if ((r.problem = first_events(client, &chunk, r.traces))) return r;
  }
  // A flag whose events are gone keeps the flag's own time.
  for (const auto& row : r.traces) flagged.erase(row.base_id);
  for (auto& [id, ts] : flagged) r.traces.push_back({id, ts});
  newest_first(r.traces);
  return r;
}

}  // namespace osprof::detail::mongodb
