// The blocking operations, run on the driver's lane with its mongo_client: one `insert` of a
// batch's documents (unordered), the error flags as upserts, the indexes, and the reads. Each
// takes and returns plain values, so a result nobody waits for any more is simply dropped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <osprof/report.hpp>

#include "drivers/mongodb/batch_ledger.hpp"
#include "drivers/mongodb/mongo_client.hpp"

namespace osprof::detail::mongodb {

/// Documents to insert, back to back in one buffer.
struct insert_request {
  std::vector<std::uint8_t> data;
  std::vector<std::uint32_t> offsets;  ///< where each document starts; its size is its header
  bool ensure_indexes = true;
};

struct insert_result {
  std::vector<doc_outcome> docs;         ///< one per document of the request
  std::vector<std::string> reasons;      ///< the server's message where a document failed
  std::optional<failure> command;        ///< the command as a whole failed
  std::optional<std::string> retry_why;  ///< documents to send again (per-document retry, write concern)
  std::string note;                      ///< something to log once (indexes not created)
};

insert_result run_insert(mongo_client& client, const insert_request& request);

/// `{base_id, timestamp}` upserted into profiler_error, keyed by base_id (Python's update()).
struct error_flag {
  std::string base_id;
  std::string timestamp;
};
std::optional<failure> run_flag_errors(mongo_client& client, const std::vector<error_flag>& flags);

/// Reads: the rows, or the failure.
struct read_result {
  std::vector<std::string> events;
  std::vector<trace_summary> traces;
  std::optional<failure> problem;
};
read_result run_read_trace(mongo_client& client, const std::string& base_id);
read_result run_list_traces(mongo_client& client);
read_result run_list_error_traces(mongo_client& client);

/// The indexes the driver creates (and documents): {base_id: 1, timestamp: 1} on profiler
/// (one trace's events; the first event of each trace for `list`), {base_id: 1} on
/// profiler_error (the upsert's filter).
inline constexpr const char* events_index_name = "base_id_1_timestamp_1";
inline constexpr const char* errors_index_name = "base_id_1";

}  // namespace osprof::detail::mongodb
