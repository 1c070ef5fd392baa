#include "drivers/sql/sql_layout.hpp"
#include "drivers/sql/sql_writer.hpp"

#include <simdjson.h>

#include "common/json_writer.hpp"
#include "common/text.hpp"

namespace osprof::detail::sql {

namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The JSON text inside a stored `data` value: OSProfiler stores a JSON string holding the
// object's text; a value that is the object itself is taken as it is. nullopt: not JSON.
std::optional<std::string> decode_data(std::string_view data) {
  const std::string_view text = trim(data);
  if (text.empty() || text.front() != '"') return std::string(text);
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(text);
  simdjson::ondemand::document doc;
  std::string_view inner;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS || doc.get_string().get(inner) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  return std::string(inner);
}

}  // namespace

index_set index_set_param(const connection_string& cs) {
  const auto v = cs.param("indexes");
  if (!v || *v == "all") return index_set::all;
  if (*v == "reading") return index_set::reading;
  cs.fail("option 'indexes' must be all or reading");
}

std::vector<std::string> data_table_ddl(dialect d, index_set which) {
  // SQLAlchemy 1.4's DDL for Python's Table (Integer primary key, String(n), JSON).
  const char* id = d == dialect::postgresql ? "id SERIAL NOT NULL"
                   : d == dialect::mysql    ? "id INTEGER NOT NULL AUTO_INCREMENT"
                                            : "id INTEGER NOT NULL";
  std::vector<std::string> out;
  out.push_back(std::string("CREATE TABLE IF NOT EXISTS data (\n\t") + id +
                ",\n\ttimestamp VARCHAR(26),\n\tbase_id VARCHAR(255),\n\tparent_id VARCHAR(255),\n\t"
                "trace_id VARCHAR(255),\n\tproject VARCHAR(255),\n\thost VARCHAR(255),\n\tservice VARCHAR(255),\n\t"
                "name VARCHAR(255),\n\tdata JSON,\n\tPRIMARY KEY (id)\n)");
  for (std::string_view column : columns) {
    if (column == "data") continue;
    if (which == index_set::reading && column != "base_id" && column != "timestamp") continue;
    out.push_back("CREATE INDEX IF NOT EXISTS ix_data_" + std::string(column) + " ON data (" + std::string(column) + ")");
  }
  return out;
}

std::string writers_table_ddl(dialect) {
  return "CREATE TABLE IF NOT EXISTS osprof_writers (\n\twriter_id VARCHAR(32) NOT NULL,\n\tbatch BIGINT NOT NULL,\n\t"
         "seen BIGINT NOT NULL,\n\tPRIMARY KEY (writer_id),\n\tCONSTRAINT osprof_batch_stored CHECK (batch >= 0)\n)";
}

std::string claim_batch_sql(dialect d, std::string_view writer_id, std::uint64_t sequence, std::int64_t now_s) {
  std::string sql = "INSERT INTO osprof_writers (writer_id, batch, seen) VALUES ('";
  sql += writer_id;  // hex digits only
  sql += "', " + std::to_string(sequence) + ", " + std::to_string(now_s) + ")";
  if (d == dialect::mysql) {
    sql += " ON DUPLICATE KEY UPDATE batch = IF(batch < VALUES(batch), VALUES(batch), -1), seen = VALUES(seen)";
  } else {
    sql += " ON CONFLICT (writer_id) DO UPDATE SET batch = CASE WHEN osprof_writers.batch < excluded.batch"
           " THEN excluded.batch ELSE -1 END, seen = excluded.seen";
  }
  return sql;
}

std::string prune_writers_sql(dialect, std::int64_t now_s, std::int64_t max_age_s) {
  return "DELETE FROM osprof_writers WHERE seen < " + std::to_string(now_s - max_age_s);
}

void column_limits::set(std::string_view column, std::size_t limit) {
  if (column == "project") project = limit;
  else if (column == "host") host = limit;
  else if (column == "service") service = limit;
  else if (column == "name") name = limit;
  else if (column == "timestamp") timestamp = limit;
  else if (column == "base_id" || column == "parent_id" || column == "trace_id") {
    // One limit for the three: the smallest that limits anything.
    if (ids == 0 || (limit != 0 && limit < ids)) ids = limit;
  }
}

std::string column_text(std::string_view text) {
  std::string out;
  assign_column_text(out, text);
  return out;
}

void assign_column_text(std::string& out, std::string_view text) {
  // Names are nearly always printable ASCII: taken as they are (no byte to replace).
  if (plain_json_run_end(text, 0, json_escape::utf8) == text.size()) {
    out.assign(text);
    return;
  }
  out.clear();
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    std::uint32_t cp;
    const std::size_t n = decode_utf8(text, i, cp);
    if (n == 0 || cp == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD, as append_json_string() writes it
      ++i;
      continue;
    }
    out.append(text.data() + i, n);
    i += n;
  }
}

std::size_t code_points(std::string_view text) noexcept {
  std::size_t n = 0;
  for (const char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

void make_row(const event_record& e, row& out) {
  e.base_id.format(out.base_id.data());
  e.parent_id.format(out.parent_id.data());
  e.trace_id.format(out.trace_id.data());
  assign_column_text(out.name, e.name);
  // What OSProfiler's driver stores: the event minus its columns, JSON-encoded as a string
  // inside the JSON column: the string of {"info": <info>}, escaped in place (the buffer is
  // the row's, reused from event to event).
  out.data.clear();
  out.data += R"("{\"info\": )";
  append_json_string_contents(out.data, e.info);
  out.data += R"(}")";
}

std::string check_row(const row& r, const writer_columns& w, const column_limits& limits) {
  const auto too_long = [](std::string_view column, std::string_view value, std::size_t limit) -> std::string {
    if (limit == 0 || value.size() <= limit || code_points(value) <= limit) return {};
    return "the " + std::string(column) + " '" + excerpt(value, 60) + "' has " + std::to_string(code_points(value)) +
           " characters; the column takes " + std::to_string(limit);
  };
  std::string why = too_long("name", r.name, limits.name);
  if (why.empty()) why = too_long("project", w.project, limits.project);
  if (why.empty()) why = too_long("host", w.host, limits.host);
  if (why.empty()) why = too_long("service", w.service, limits.service);
  if (why.empty() && limits.ids != 0 && limits.ids < uuid_text_size) {
    why = "the id columns take " + std::to_string(limits.ids) + " characters; ids have 36";
  }
  if (why.empty() && limits.timestamp != 0 && limits.timestamp < 26) {
    why = "the timestamp column takes " + std::to_string(limits.timestamp) + " characters; timestamps have 26";
  }
  if (why.empty() && limits.row_bytes != 0) {
    const std::size_t bytes = r.data.size() + r.name.size() + w.project.size() + w.host.size() + w.service.size() + 200;
    if (bytes > limits.row_bytes) {
      why = "the event takes " + std::to_string(bytes) + " bytes; the server takes at most " +
            std::to_string(limits.row_bytes) + " in one statement";
    }
  }
  return why;
}

std::string rebuild_event(const stored_row& r) {
  std::string event;
  event.reserve(r.data ? r.data->size() + 256 : 256);
  event += "{\"name\": ";
  append_json_string(event, r.name);
  event += ", \"base_id\": ";
  append_json_string(event, r.base_id);
  event += ", \"trace_id\": ";
  append_json_string(event, r.trace_id);
  event += ", \"parent_id\": ";
  append_json_string(event, r.parent_id);
  event += ", \"timestamp\": ";
  append_json_string(event, r.timestamp);
  std::optional<std::string> inner;
  if (r.data) inner = decode_data(*r.data);
  const std::string_view members = inner ? trim(*inner) : std::string_view();
  if (!inner || members.size() < 2 || members.front() != '{' || members.back() != '}') {
    // Not the JSON object OSProfiler stores: hand the raw text on so the report names this
    // event as corrupt instead of silently losing it.
    event += ", \"data\": ";
    event += r.data ? *r.data : std::string_view("null");
  } else if (trim(members.substr(1, members.size() - 2)).size() != 0) {
    event += ", ";
    event += trim(members.substr(1, members.size() - 2));
  }
  event += ", \"project\": ";
  append_json_string(event, r.project);
  event += ", \"service\": ";
  append_json_string(event, r.service);
  event += '}';
  return event;
}

bool data_has_error(std::string_view data) {
  const auto inner = decode_data(data);
  if (!inner) return false;
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(*inner);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object info;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return false;
  if (doc["info"].get_object().get(info) != simdjson::SUCCESS) return false;
  simdjson::ondemand::value etype;
  if (info["etype"].get(etype) != simdjson::SUCCESS) return false;
  bool is_null = false;
  if (etype.is_null().get(is_null) != simdjson::SUCCESS) return false;
  return !is_null;
}

batch_numbers::batch_numbers() {
  const uuid id = uuid::random();
  append_hex(writer_id_, id.hi);
  append_hex(writer_id_, id.lo);
}

}  // namespace osprof::detail::sql
