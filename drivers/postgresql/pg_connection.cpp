#include "drivers/postgresql/pg_connection.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>

#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace osprof::detail::postgresql {

namespace {

// Whether two descriptors are the same socket (libpq may close one and get the same number
// for the next while it tries a server's addresses in turn).
// A connection failure's message with libpq's verbose parts taken out ("28P01: ", LOCATION
// lines), and the SQLSTATE they gave. Verbose during the connection only: it is the one way
// to the code of an error the server sent before the connection was made.
std::string strip_verbose(std::string message, std::string& sqlstate) {
  for (std::size_t at = message.find(":  "); at != std::string::npos; at = message.find(":  ", at + 1)) {
    const std::size_t code = at + 3;
    if (code + 7 > message.size() || message[code + 5] != ':' || message[code + 6] != ' ') continue;
    bool ok = true;
    for (std::size_t i = 0; i < 5; ++i) {
      const auto c = static_cast<unsigned char>(message[code + i]);
      ok = ok && (std::isdigit(c) || std::isupper(c));
    }
    if (!ok) continue;
    sqlstate = message.substr(code, 5);
    message.erase(code, 7);
    break;
  }
  std::string out;
  std::size_t from = 0;
  while (from < message.size()) {
    std::size_t end = message.find('\n', from);
    if (end == std::string::npos) end = message.size();
    const std::string_view line(message.data() + from, end - from);
    if (!line.starts_with("LOCATION:") && !line.empty()) {
      if (!out.empty()) out += ' ';
      out += line;
    }
    from = end + 1;
  }
  return out;
}

// A connection failure that a retry cannot cure: credentials, the database, privileges, TLS.
bool refused_for_good(const std::string& sqlstate, const std::string& message) {
  if (sqlstate.starts_with("28") || sqlstate == "3D000" || sqlstate == "42501") return true;
  if (!sqlstate.empty()) return false;
  // libpq's own checks (no SQLSTATE): no password to give, TLS that cannot be had or verified.
  for (const char* needle : {"no password supplied", "certificate", "SSL was required", "does not support SSL",
                             "does not match host name", "invalid sslmode", "invalid connection option",
                             "invalid integer value", "channel binding"}) {
    if (message.find(needle) != std::string::npos) return true;
  }
  return false;
}

void ignore_notice(void*, const char*) {}  // CREATE ... IF NOT EXISTS notices: not for stderr

}  // namespace

pg_connection::pg_connection(asio::any_io_executor executor, pg_options options)
    : executor_(std::move(executor)), options_(std::move(options)), socket_(executor_) {}

pg_connection::~pg_connection() { close(); }

int pg_connection::server_version() const noexcept { return conn_ != nullptr ? PQserverVersion(conn_) : 0; }

void pg_connection::close() noexcept {
  socket_.close();  // our duplicate of libpq's socket, before libpq closes its own
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
  busy_ = false;
}

void pg_connection::broken(const std::string& what) {
  std::string message = conn_ != nullptr ? PQerrorMessage(conn_) : "";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  close();
  throw pg_failure(failure_kind::connection, where() + ": " + what + (message.empty() ? "" : ": " + message));
}

void pg_connection::watch_socket() {
  if (std::string why = socket_.watch(PQsocket(conn_)); !why.empty()) broken(why);
}

asio::awaitable<void> pg_connection::wait(bool read, bool write) {
  using asio::posix::stream_descriptor;
  if (read && write) {
    // Whichever comes first; the other wait is cancelled.
    auto [order, read_ec, write_ec] =
        co_await asio::experimental::make_parallel_group(socket_.descriptor().async_wait(stream_descriptor::wait_read, asio::deferred),
                                                         socket_.descriptor().async_wait(stream_descriptor::wait_write, asio::deferred))
            .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    const boost::system::error_code& first = order[0] == 0 ? read_ec : write_ec;
    if (first) throw boost::system::system_error(first);  // cancelled (the write's deadline), or a socket error
    co_return;
  }
  co_await socket_.descriptor().async_wait(read ? stream_descriptor::wait_read : stream_descriptor::wait_write, asio::use_awaitable);
}

asio::awaitable<void> pg_connection::ensure_connected() {
  if (conn_ != nullptr && !busy_ && PQstatus(conn_) == CONNECTION_OK) {
    // A server that went away since (a restart) shows here, not in the middle of a batch.
    if (PQconsumeInput(conn_) != 0 && PQstatus(conn_) == CONNECTION_OK) co_return;
  }
  close();
  co_await connect();
}

asio::awaitable<void> pg_connection::connect() {
  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (const auto& [k, v] : options_.keywords) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  busy_ = true;
  conn_ = PQconnectStartParams(keys.data(), values.data(), 0);
  if (conn_ == nullptr) throw pg_failure(failure_kind::connection, where() + ": cannot allocate a connection");
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
  PQsetErrorVerbosity(conn_, PQERRORS_VERBOSE);
  const auto failed = [this] {
    std::string sqlstate;
    const std::string message = strip_verbose(PQerrorMessage(conn_), sqlstate);
    close();
    const failure_kind kind = refused_for_good(sqlstate, message) ? failure_kind::refused : failure_kind::connection;
    return pg_failure(kind, where() + ": " + (message.empty() ? std::string("cannot connect") : message), sqlstate);
  };
  if (PQstatus(conn_) == CONNECTION_BAD) throw failed();
  PostgresPollingStatusType status = PGRES_POLLING_WRITING;
  for (;;) {
    watch_socket();
    if (!socket_.is_open()) throw failed();
    co_await wait(status == PGRES_POLLING_READING, status != PGRES_POLLING_READING);
    status = PQconnectPoll(conn_);
    if (status == PGRES_POLLING_OK) break;
    if (status == PGRES_POLLING_FAILED) throw failed();
  }
  PQsetErrorVerbosity(conn_, PQERRORS_DEFAULT);
  watch_socket();
  if (PQsetnonblocking(conn_, 1) != 0 || PQenterPipelineMode(conn_) != 1) broken("cannot enter pipeline mode");
  busy_ = false;
  fresh_ = true;
}

asio::awaitable<void> pg_connection::flush() {
  for (;;) {
    const int r = PQflush(conn_);
    if (r == 0) co_return;
    if (r < 0) broken("sending failed");
    // libpq's rule: wait for either; read what came so that the server is never stuck
    // writing to us while we wait to write to it.
    co_await wait(true, true);
    if (PQconsumeInput(conn_) == 0) broken("the connection was lost");
  }
}

asio::awaitable<std::vector<outcome>> pg_connection::run(std::span<const statement> statements) {
  if (conn_ == nullptr || busy_) throw pg_failure(failure_kind::connection, where() + ": not connected");
  busy_ = true;  // stays set if this is cut short: the connection is then in an unknown state
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  for (const statement& s : statements) {
    values.clear();
    lengths.clear();
    formats.clear();
    for (const param& p : s.params) {
      values.push_back(p.bytes.data());
      lengths.push_back(static_cast<int>(p.bytes.size()));
      formats.push_back(p.binary ? 1 : 0);
    }
    const int n = static_cast<int>(s.params.size());
    int sent;
    if (!s.prepare_as.empty()) {
      sent = PQsendPrepare(conn_, s.prepare_as.c_str(), s.sql.c_str(), 0, nullptr);
    } else if (s.prepared) {
      sent = PQsendQueryPrepared(conn_, s.sql.c_str(), n, values.data(), lengths.data(), formats.data(), 0);
    } else {
      sent = PQsendQueryParams(conn_, s.sql.c_str(), n, nullptr, values.data(), lengths.data(), formats.data(), 0);
    }
    if (sent != 1) broken("cannot send a statement");
  }
  if (PQpipelineSync(conn_) != 1) broken("cannot end the pipeline");
  co_await flush();

  std::vector<outcome> out(statements.size());
  std::size_t index = 0;  // the statement whose results come next
  for (;;) {
    while (PQisBusy(conn_) != 0) {
      co_await wait(true, false);
      if (PQconsumeInput(conn_) == 0) broken("the connection was lost");
    }
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {  // the end of one statement's results
      ++index;
      continue;
    }
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      break;
    }
    if (PQstatus(conn_) == CONNECTION_BAD) {
      PQclear(r);
      broken("the connection was lost");
    }
    if (index < out.size()) {
      outcome& o = out[index];
      switch (status) {
        case PGRES_COMMAND_OK:
        case PGRES_TUPLES_OK: {
          o.ok = true;
          const char* tuples = PQcmdTuples(r);
          o.rows_affected = tuples != nullptr && *tuples != '\0' ? std::strtoull(tuples, nullptr, 10) : 0;
          if (statements[index].keep_rows && status == PGRES_TUPLES_OK) {
            const int rows = PQntuples(r);
            const int columns = PQnfields(r);
            o.rows.columns = static_cast<std::size_t>(columns);
            o.rows.cells.reserve(static_cast<std::size_t>(rows) * o.rows.columns);
            for (int i = 0; i < rows; ++i) {
              for (int c = 0; c < columns; ++c) {
                if (PQgetisnull(r, i, c) != 0) {
                  o.rows.cells.emplace_back();
                } else {
                  o.rows.cells.emplace_back(std::string(PQgetvalue(r, i, c), static_cast<std::size_t>(PQgetlength(r, i, c))));
                }
              }
            }
          }
          break;
        }
        case PGRES_PIPELINE_ABORTED:
          o.skipped = true;
          break;
        default: {
          const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
          const char* constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
          const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
          o.sqlstate = state != nullptr ? state : "";
          o.constraint = constraint != nullptr ? constraint : "";
          o.message = primary != nullptr ? primary : PQresultErrorMessage(r);
          while (!o.message.empty() && (o.message.back() == '\n' || o.message.back() == ' ')) o.message.pop_back();
          if (o.sqlstate.empty()) {
            PQclear(r);
            broken("the connection was lost");
          }
          break;
        }
      }
    }
    PQclear(r);
  }
  busy_ = false;
  co_return out;
}

}  // namespace osprof::detail::postgresql
