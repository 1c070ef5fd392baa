// Registers mysql://, mysql+pymysql:// and mysql+mysqldb:// (the spellings Python OSProfiler
// maps to its SQL driver): my_writer, and the SQL drivers' shared reader on a Connector/C
// connection.
#include <osprof/drivers/mysql.hpp>

#include <osprof/error.hpp>

#include "drivers/mysql/my_writer.hpp"
#include "drivers/sql/sql_reader.hpp"

namespace osprof::detail::mysql {

namespace {

class my_runner final : public sql::query_runner {
 public:
  my_runner(asio::any_io_executor executor, my_options options, std::chrono::milliseconds timeout)
      : conn_(std::move(executor), std::move(options), timeout) {}

  asio::awaitable<sql::result_rows> query(std::string text, std::vector<std::string> params) override {
    std::vector<outcome> out;
    try {
      co_await conn_.ensure_connected();
      // The shared reader's placeholders (?) become literals escaped for this connection.
      std::string statement;
      std::size_t next = 0;
      for (const char c : text) {
        if (c == '?' && next < params.size()) {
          conn_.append_literal(statement, params[next++]);
        } else {
          statement += c;
        }
      }
      out = co_await conn_.run(statement, 1);
    } catch (const my_failure& f) {
      throw error(f.what());
    }
    outcome& o = out.front();
    if (!o.ok) {
      throw error(conn_.where() + ": " + o.message +
                  (o.code == 1146 ? " (no table data: nothing was written to this database yet)" : ""));
    }
    co_return std::move(o.rows);
  }

 private:
  my_connection conn_;
};

}  // namespace

}  // namespace osprof::detail::mysql

namespace osprof::drivers {

void register_mysql() {
  using namespace osprof::detail::mysql;
  namespace sql = osprof::detail::sql;
  for (const char* scheme : {"mysql", "mysql+pymysql", "mysql+mysqldb"}) {
    register_driver({
        .scheme = scheme,
        .summary = std::string(scheme) +
                   "://user:password@host[:port]/database[?ssl_ca=...] MariaDB/MySQL, OSProfiler's SQL layout (table data)",
        .make_writer = [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<writer> {
          return std::make_unique<my_writer>(my_options::from(cs), context);
        },
        .make_reader = [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<reader> {
          return std::make_unique<sql::sql_reader>(
              sql::dialect::mysql, std::make_unique<my_runner>(context.executor, my_options::from(cs), context.timeout));
        },
    });
  }
}

}  // namespace osprof::drivers
