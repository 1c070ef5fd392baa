// mongodb://: Python OSProfiler's MongoDB layout (database osprofiler, collection profiler, error
// flags in profiler_error) through Debian's libmongoc 1.23, which brings authentication, TLS
// and server discovery. libmongoc blocks, so its calls run on a thread of the driver's own
// (blocking_lane.hpp); the emitter's coroutine awaits them and is never blocked.
//
// A batch is one unordered `insert` of all its events, each with a deterministic `_id`, so an
// attempt whose answer was lost can be sent again without storing anything twice
// (batch_ledger.hpp keeps the account per event across the emitter's attempts).
#include <map>

#include <osprof/driver.hpp>
#include <osprof/drivers/mongodb.hpp>
#include <osprof/error.hpp>

#include "common/log.hpp"
#include "drivers/mongodb/batch_ledger.hpp"
#include "drivers/mongodb/blocking_lane.hpp"
#include "drivers/mongodb/bson_codec.hpp"
#include "drivers/mongodb/mongo_ops.hpp"

namespace osprof::detail::mongodb {

namespace {

namespace asio = boost::asio;

class mongodb_writer final : public writer {
 public:
  mongodb_writer(mongodb_options options, const driver_context& context)
      : client_(std::make_shared<mongo_client>(std::move(options))),
        filter_error_trace_(context.filter_error_trace),
        encoder_(context.project, context.service) {}

  // The client is released on the lane, where it was used.
  ~mongodb_writer() override {
    lane_.finish([client = std::move(client_)]() mutable { client.reset(); });
  }

  asio::awaitable<write_result> write(const batch& b) override {
    ledger_.start(b);
    if (ledger_.unsettled() != 0) {
      // Encoded here, into buffers the job owns: a cancelled await leaves the job running
      // after the batch's events are gone.
      insert_request request;
      request.ensure_indexes = client_->options().create_indexes;
      std::vector<std::size_t> indices;
      std::vector<bool> was_sent;
      std::string problem;
      for (std::size_t i = 0; i < b.size(); ++i) {
        if (ledger_.settled(i)) continue;
        const auto offset = request.data.size();
        problem.clear();
        const std::size_t size = encoder_.append(b.events[i], request.data, problem);
        if (size == 0 || size > max_document_bytes) {
          request.data.resize(offset);
          ledger_.refuse(i, size == 0 ? "mongodb: event " + event_id(b.events[i]) + ": " + problem
                                      : "mongodb: event " + event_id(b.events[i]) + " is a document of " +
                                            std::to_string(size) + " bytes, over MongoDB's 16 MiB limit");
          continue;
        }
        request.offsets.push_back(static_cast<std::uint32_t>(offset));
        indices.push_back(i);
        was_sent.push_back(ledger_.at(i) == batch_ledger::state::sent);
        ledger_.sending(i);
      }
      if (!indices.empty()) {
        std::function<insert_result()> job = [client = client_, request = std::move(request)] {
          return run_insert(*client, request);
        };
        auto outcome = co_await lane_.call(std::move(job));
        if (!outcome) co_return write_result::retryable("mongodb: the write was cancelled while libmongoc was busy");
        if (!outcome->note.empty()) log_message(outcome->note);
        if (outcome->command) {
          if (outcome->command->kind == failure_kind::retry) co_return write_result::retryable(outcome->command->message);
          // Refused for good (credentials, permissions, a bad request): what earlier attempts
          // stored stays written, the rest is dropped.
          for (std::size_t k = 0; k < indices.size(); ++k) ledger_.refuse(indices[k], outcome->command->message);
          co_return ledger_.give_up(outcome->command->message);
        }
        for (std::size_t k = 0; k < indices.size(); ++k) {
          const std::string why = outcome->docs[k] == doc_outcome::duplicate
                                      ? "mongodb: another document has the _id of event " + event_id(b.events[indices[k]]) +
                                            " (" + outcome->reasons[k] + ")"
                                      : "mongodb: the server refused event " + event_id(b.events[indices[k]]) + ": " +
                                            outcome->reasons[k];
          ledger_.apply(indices[k], outcome->docs[k], was_sent[k], why);
        }
        if (outcome->retry_why) co_return write_result::retryable(*outcome->retry_why);
      }
    }
    if (ledger_.unsettled() != 0) co_return write_result::retryable("mongodb: events not confirmed yet");

    if (filter_error_trace_ && !ledger_.flags_done()) {
      // Python's notify_error_trace: {base_id, timestamp} per trace with an error, the latest
      // error's time, for the events stored.
      std::map<std::string, std::string> latest;
      for (std::size_t i = 0; i < b.size(); ++i) {
        const auto& e = b.events[i];
        if (!e.has_error || ledger_.at(i) != batch_ledger::state::stored) continue;
        std::string& ts = latest[e.base_id.to_string()];
        ts = std::max(ts, std::string(e.timestamp_text()));
      }
      if (!latest.empty()) {
        std::vector<error_flag> flags;
        for (auto& [id, ts] : latest) flags.push_back({id, ts});
        std::function<std::optional<failure>()> job = [client = client_, flags = std::move(flags)] {
          return run_flag_errors(*client, flags);
        };
        auto outcome = co_await lane_.call(std::move(job));
        if (!outcome) co_return write_result::retryable("mongodb: flagging error traces was cancelled");
        if (*outcome && (*outcome)->kind == failure_kind::retry) co_return write_result::retryable((*outcome)->message);
        if (*outcome && !flag_failure_logged_) {
          // The events are stored; only `trace list --error-trace` misses these traces.
          log_message((*outcome)->message + " (events are stored; this is logged once)");
          flag_failure_logged_ = true;
        }
      }
      ledger_.flags_written();
    }
    co_return ledger_.done();
  }

  asio::awaitable<close_result> close() override {
    std::function<bool()> job = [client = client_] {
      client->reset();  // ends the server sessions and closes the connections
      return true;
    };
    co_await lane_.call(std::move(job));
    co_return close_result{};
  }

 private:
  std::shared_ptr<mongo_client> client_;
  bool filter_error_trace_;
  batch_ledger ledger_;
  event_encoder encoder_;
  bool flag_failure_logged_ = false;
  blocking_lane lane_;
};

class mongodb_reader final : public reader {
 public:
  explicit mongodb_reader(mongodb_options options) : client_(std::make_shared<mongo_client>(std::move(options))) {}
  ~mongodb_reader() override {
    lane_.finish([client = std::move(client_)]() mutable { client.reset(); });
  }

  asio::awaitable<std::vector<std::string>> read_trace(std::string_view base_id) override {
    std::function<read_result()> job = [client = client_, id = std::string(base_id)] {
      return run_read_trace(*client, id);
    };
    auto r = co_await lane_.call(std::move(job));
    co_return std::move(checked(r).events);
  }

  asio::awaitable<std::vector<trace_summary>> list_traces() override {
    std::function<read_result()> job = [client = client_] { return run_list_traces(*client); };
    auto r = co_await lane_.call(std::move(job));
    co_return std::move(checked(r).traces);
  }

  asio::awaitable<std::vector<trace_summary>> list_error_traces() override {
    std::function<read_result()> job = [client = client_] { return run_list_error_traces(*client); };
    auto r = co_await lane_.call(std::move(job));
    co_return std::move(checked(r).traces);
  }

 private:
  static read_result& checked(std::optional<read_result>& r) {
    if (!r) throw error("mongodb: the read was cancelled");
    if (r->problem) throw error(r->problem->message);
    return *r;
  }

  std::shared_ptr<mongo_client> client_;
  blocking_lane lane_;
};

}  // namespace

}  // namespace osprof::detail::mongodb

namespace osprof::drivers {

void register_mongodb() {
  using namespace osprof::detail::mongodb;
  register_driver({
      .scheme = "mongodb",
      .summary = "mongodb://[user:password@]host[:port][,host2...][/database][?options]: MongoDB through libmongoc, "
                 "Python OSProfiler's layout (collections profiler, profiler_error)",
      .make_writer = [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<writer> {
        return std::make_unique<mongodb_writer>(mongodb_options::from(cs, context.timeout), context);
      },
      .make_reader = [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<reader> {
        return std::make_unique<mongodb_reader>(mongodb_options::from(cs, context.timeout));
      },
  });
}

}  // namespace osprof::drivers
