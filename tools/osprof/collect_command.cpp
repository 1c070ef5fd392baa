// `osprof collect --from messaging://... --to <connection string>`: takes every event from the
// profiler topic and stores it through the target backend's writer, acknowledging a message
// only once the backend confirmed it. What Ceilometer did for OSProfiler's messaging
// deployments: it makes them browsable with `trace list`/`show`.
//
// Exactly once across a crash: a message stored but not yet acknowledged when collect died
// comes back marked redelivered; for those, the target's reader is asked first and events
// already stored are acknowledged without being stored again.
#include <cstdio>
#include <map>
#include <set>
#include <thread>

#include "cli.hpp"

#ifdef OSPROF_WITH_MESSAGING
#include <csignal>

#include <simdjson.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <osprof/connection_string.hpp>
#include <osprof/driver.hpp>
#include <osprof/drivers/messaging.hpp>
#include <osprof/error.hpp>
#include <osprof/uuid.hpp>

#include "common/time_format.hpp"
#endif

namespace osprof::cli {

namespace {

struct collect_settings {
  std::string from;
  std::string to;
  int batch_size = 512;
  int flush_interval_ms = 200;
  int prefetch = 2048;
  double progress_s = 1;
};

#ifdef OSPROF_WITH_MESSAGING

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

volatile std::sig_atomic_t stop_requested = 0;
extern "C" void request_stop(int) { stop_requested = 1; }

template <class Make>
auto run_sync(asio::io_context& ioc, Make make) {
  auto future = asio::co_spawn(ioc, make(), asio::use_future);
  ioc.restart();
  ioc.run();
  return future.get();
}

// A received event broken into the columns writers take; nullopt if it is not OSProfiler's.
struct parsed_event {
  osprof::event_record record;
  std::string project, service, host;
  std::string dedup_key;  // trace_id + name + timestamp
};

std::optional<parsed_event> parse_event(simdjson::ondemand::parser& parser, const std::string& json) {
  parsed_event p;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS || doc.get_object().get(obj) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  std::string_view base, trace, parent, ts;
  bool has_info = false;
  try {
    for (auto field : obj) {
      std::string_view key = field.unescaped_key();
      auto value = field.value();
      if (key == "name") p.record.name = std::string_view(value.get_string());
      else if (key == "base_id") base = value.get_string();
      else if (key == "trace_id") trace = value.get_string();
      else if (key == "parent_id") parent = value.get_string();
      else if (key == "timestamp") ts = value.get_string();
      else if (key == "project") p.project = std::string_view(value.get_string());
      else if (key == "service") p.service = std::string_view(value.get_string());
      else if (key == "info") {
        simdjson::ondemand::object info = value.get_object();
        p.record.info = std::string_view(info.raw_json());
        has_info = true;
      }
    }
  } catch (const simdjson::simdjson_error&) {
    return std::nullopt;
  }
  if (has_info) {
    // info.host and whether it carries an error, from a second pass over the info alone.
    static thread_local simdjson::ondemand::parser info_parser;
    simdjson::padded_string info_text(p.record.info);
    simdjson::ondemand::document info_doc;
    simdjson::ondemand::object info;
    if (info_parser.iterate(info_text).get(info_doc) != simdjson::SUCCESS ||
        info_doc.get_object().get(info) != simdjson::SUCCESS) {
      return std::nullopt;
    }
    try {
      for (auto f : info) {
        std::string_view k = f.unescaped_key();
        if (k == "host") p.host = std::string_view(f.value().get_string());
        if (k == "etype") p.record.has_error = true;
      }
    } catch (const simdjson::simdjson_error&) {
      return std::nullopt;
    }
  }
  auto b = uuid::parse(base), t = uuid::parse(trace), pa = uuid::parse(parent);
  auto us = detail::parse_timestamp(ts);
  if (!b || !t || !pa || !us || !has_info || p.record.name.empty()) return std::nullopt;
  p.record.base_id = *b;
  p.record.trace_id = *t;
  p.record.parent_id = *pa;
  p.record.time_us = *us;
  std::copy(ts.begin(), ts.end(), p.record.timestamp.begin());
  p.record.is_stop = p.record.name.ends_with("-stop");
  if (!p.record.is_stop && !p.record.name.ends_with("-start")) return std::nullopt;
  if (!p.record.is_stop) p.record.has_error = false;
  p.record.json = json;
  p.dedup_key = std::string(trace) + " " + p.record.name + " " + std::string(ts);
  return p;
}

class collector {
 public:
  explicit collector(const collect_settings& s) : s_(s), source_(s.from, std::chrono::seconds(10),
                                                                  static_cast<std::uint16_t>(s.prefetch)) {
    // The target is checked now, so a bad --to fails at once.
    connection_string::parse(s_.to);
    (void)writer_for("", "", "");
  }

  int run() {
    std::fprintf(stderr, "osprof collect: from %s to %s (Ctrl-C or SIGTERM stops after storing what it took)\n",
                 source_.where().c_str(), redact_connection_string(s_.to).c_str());
    auto last_progress = steady::now();
    auto backoff = std::chrono::milliseconds(100);
    while (!stop_requested && fatal_.empty()) {
      try {
        fill_batch();
        if (!pending_.empty()) store_and_ack();
        backoff = std::chrono::milliseconds(100);
      } catch (const error& e) {
        // The broker failed: what was taken and not acknowledged is back in the queue.
        pending_.clear();
        log_failure(e.what());
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      }
      if (s_.progress_s > 0 && steady::now() - last_progress >= std::chrono::duration<double>(s_.progress_s)) {
        print_progress();
        last_progress = steady::now();
      }
    }
    source_.close();
    for (auto& [key, w] : writers_) run_sync(ioc_, [&] { return w->close(); });
    print_progress();
    std::fprintf(stderr, "osprof collect: stopped: %llu stored, %llu already stored (skipped), %llu refused by the "
                 "target, %llu not OSProfiler events (dropped)\n",
                 static_cast<unsigned long long>(stored_), static_cast<unsigned long long>(duplicates_),
                 static_cast<unsigned long long>(refused_), static_cast<unsigned long long>(not_events_));
    if (!fatal_.empty()) {
      std::fprintf(stderr, "osprof collect: %s\n", fatal_.c_str());
      return 1;
    }
    return 0;
  }

 private:
  struct item {
    drivers::messaging::received message;
    std::optional<parsed_event> event;
  };

  void fill_batch() {
    const auto started = steady::now();
    const auto interval = std::chrono::milliseconds(s_.flush_interval_ms);
    while (pending_.size() < static_cast<std::size_t>(s_.batch_size) && !stop_requested) {
      const auto elapsed = steady::now() - started;
      if (!pending_.empty() && elapsed >= interval) break;
      const auto wait = pending_.empty() ? std::chrono::milliseconds(200)
                                         : std::chrono::duration_cast<std::chrono::milliseconds>(interval - elapsed);
      auto m = source_.next(wait);
      if (!m) {
        if (pending_.empty()) return;
        continue;
      }
      item it{std::move(*m), std::nullopt};
      if (it.message.notification) it.event = parse_event(parser_, it.message.event);
      if (!it.event) {
        source_.reject(it.message.tag);
        ++not_events_;
        continue;
      }
      pending_.push_back(std::move(it));
    }
  }

  osprof::writer& writer_for(const std::string& project, const std::string& service, const std::string& host) {
    // One writer per project/service/host: a writer stores its context's names with each event.
    auto key = project + '\n' + service + '\n' + host;
    auto it = writers_.find(key);
    if (it != writers_.end()) return *it->second;
    driver_context context;
    context.executor = ioc_.get_executor();
    context.project = project;
    context.service = service;
    context.host = host;
    auto w = make_writer(s_.to, context);
    return *writers_.emplace(key, std::move(w)).first->second;
  }

  // Keys of events the target already holds for these traces (redelivered messages only).
  std::set<std::string> already_stored() {
    std::set<std::string> traces;
    for (const auto& it : pending_) {
      if (it.message.redelivered) traces.insert(it.event->record.base_id.to_string());
    }
    std::set<std::string> keys;
    if (traces.empty()) return keys;
    if (!reader_) {
      driver_context context;
      context.executor = ioc_.get_executor();
      try {
        reader_ = make_reader(s_.to, context);
      } catch (const error&) {
        return keys;  // a write-only target: a redelivered event may be stored twice
      }
    }
    for (const auto& base : traces) {
      auto stored = run_sync(ioc_, [&] { return reader_->read_trace(base); });
      for (const auto& json : stored) {
        if (auto p = parse_event(parser_, json)) keys.insert(p->dedup_key);
      }
    }
    return keys;
  }

  void store_and_ack() {
    const auto known = already_stored();
    std::map<std::string, std::vector<osprof::event_record>> groups;
    std::map<std::string, std::array<std::string, 3>> names;
    for (auto& it : pending_) {
      auto& e = *it.event;
      if (it.message.redelivered && known.contains(e.dedup_key)) {
        ++duplicates_;
        continue;
      }
      const auto key = e.project + '\n' + e.service + '\n' + e.host;
      names[key] = {e.project, e.service, e.host};
      groups[key].push_back(std::move(e.record));
    }
    for (auto& [key, events] : groups) {
      auto& w = writer_for(names[key][0], names[key][1], names[key][2]);
      const std::uint64_t id = ++batch_id_;
      std::uint32_t attempt = 1;
      auto backoff = std::chrono::milliseconds(100);
      for (;;) {
        batch b{events, id, attempt};
        const auto r = run_sync(ioc_, [&] { return w.write(b); });
        if (r.status == write_status::ok) {
          stored_ += events.size() - r.rejected;
          refused_ += r.rejected;
          if (r.rejected != 0) log_failure("the target refused " + std::to_string(r.rejected) + " event(s): " + r.error);
          break;
        }
        if (r.status == write_status::failed) {
          // Refused for good (credentials, a store that cannot be written): nothing of this
          // batch is acknowledged, so it stays in the queue for a collect that can store it.
          fatal_ = "the target refused " + std::to_string(events.size()) + " event(s) for good: " + r.error +
                   "; stopping, the events stay in the queue";
          pending_.clear();
          return;
        }
        log_failure("storing failed, retrying: " + r.error);
        if (stop_requested) {
          // Not stored: leave the batch unacknowledged; it goes back to the queue.
          pending_.clear();
          return;
        }
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
        ++attempt;
      }
    }
    source_.ack_through(pending_.back().message.tag);
    pending_.clear();
  }

  void log_failure(const std::string& what) {
    const auto now = steady::now();
    if (what == last_error_ && now - last_logged_ < std::chrono::seconds(10)) return;
    std::fprintf(stderr, "osprof collect: %s\n", what.c_str());
    last_error_ = what;
    last_logged_ = now;
  }

  void print_progress() {
    const auto now = steady::now();
    const double seconds = std::chrono::duration<double>(now - progress_at_).count();
    const double rate = seconds > 0 ? static_cast<double>(stored_ - progress_stored_) / seconds : 0;
    std::fprintf(stderr, "osprof collect: %llu stored (%.0f/s), %llu skipped as already stored, %llu refused, %llu dropped\n",
                 static_cast<unsigned long long>(stored_), rate, static_cast<unsigned long long>(duplicates_),
                 static_cast<unsigned long long>(refused_), static_cast<unsigned long long>(not_events_));
    progress_at_ = now;
    progress_stored_ = stored_;
  }

  const collect_settings& s_;
  drivers::messaging::consumer source_;
  asio::io_context ioc_;
  std::map<std::string, std::unique_ptr<osprof::writer>> writers_;
  std::unique_ptr<osprof::reader> reader_;
  simdjson::ondemand::parser parser_;
  std::vector<item> pending_;
  std::uint64_t batch_id_ = 0;
  std::uint64_t stored_ = 0, duplicates_ = 0, refused_ = 0, not_events_ = 0;
  std::uint64_t progress_stored_ = 0;
  steady::time_point progress_at_ = steady::now();
  std::string last_error_;
  std::string fatal_;  // why collect stops on its own (the target refused for good)
  steady::time_point last_logged_{};
};

int collect(const collect_settings& s) {
  struct sigaction sa {};
  sa.sa_handler = request_stop;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  collector c(s);
  return c.run();
}

#else

int collect(const collect_settings&) {
  std::fprintf(stderr, "osprof: this osprof was built without the messaging driver (OSPROF_DRIVERS)\n");
  return 1;
}

#endif

}  // namespace

void add_collect_command(CLI::App& app, command_action& action) {
  auto s = std::make_shared<collect_settings>();
  CLI::App* command = app.add_subcommand(
      "collect", "Take every event from the messaging profiler topic and store it in a backend that can be read "
                 "(acknowledged once stored); stops cleanly on Ctrl-C or SIGTERM");
  command->add_option("--from", s->from, "messaging://?transport_url=... or a transport URL (rabbit://...)")
      ->required()
      ->option_text("CS");
  command->add_option("--to", s->to, "where to store: any connection string with a writer, e.g. sqlite:///traces.db")
      ->required()
      ->option_text("CS");
  command->add_option("--batch-size", s->batch_size, "events per write to the target (default 512)")
      ->check(integer_in(1, 100000))
      ->option_text("N");
  command->add_option("--flush-interval", s->flush_interval_ms, "longest an event waits for its batch, in ms (default 200)")
      ->check(integer_in(1, 60000))
      ->option_text("MS");
  command->add_option("--prefetch", s->prefetch, "messages the broker sends ahead, unacknowledged (default 2048)")
      ->check(integer_in(1, 65535))
      ->option_text("N");
  command->add_option("--progress", s->progress_s, "seconds between progress lines on stderr; 0: none (default 1)")
      ->check(number_in(0, 3600))
      ->option_text("S");
  command->callback([s, &action] { action = [s] { return collect(*s); }; });
}

}  // namespace osprof::cli
