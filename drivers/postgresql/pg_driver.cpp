// Registers postgresql:// and postgresql+psycopg2:// (the spellings Python OSProfiler maps to
// its SQL driver): pg_writer, and the SQL drivers' shared reader on a libpq connection.
#include <osprof/drivers/postgresql.hpp>

#include <osprof/error.hpp>

#include "drivers/postgresql/pg_writer.hpp"
#include "drivers/sql/sql_reader.hpp"

namespace osprof::detail::postgresql {

namespace {

class pg_runner final : public sql::query_runner {
 public:
  pg_runner(asio::any_io_executor executor, pg_options options) : conn_(std::move(executor), std::move(options)) {}

  asio::awaitable<sql::result_rows> query(std::string text, std::vector<std::string> values) override {
    std::vector<param> params;
    for (const auto& v : values) params.push_back({v});
    std::vector<outcome> out;
    try {
      co_await conn_.ensure_connected();
      statement s{std::move(text), params, false, true};
      out = co_await conn_.run(std::span(&s, 1));
    } catch (const pg_failure& f) {
      throw error(f.what());
    }
    outcome& o = out.front();
    if (!o.ok) {
      throw error(conn_.where() + ": " + o.message +
                  (o.sqlstate == "42P01" ? " (no table data: nothing was written to this database yet)" : ""));
    }
    co_return std::move(o.rows);
  }

 private:
  pg_connection conn_;
};

}  // namespace

}  // namespace osprof::detail::postgresql

namespace osprof::drivers {

void register_postgresql() {
  using namespace osprof::detail::postgresql;
  namespace sql = osprof::detail::sql;
  for (const char* scheme : {"postgresql", "postgresql+psycopg2"}) {
    register_driver({
        .scheme = scheme,
        .summary = std::string(scheme) +
                   "://user:password@host[:port]/database[?sslmode=...] PostgreSQL, OSProfiler's SQL layout (table data)",
        .make_writer = [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<writer> {
          return std::make_unique<pg_writer>(pg_options::from(cs), context);
        },
        .make_reader = [](const connection_string& cs, const driver_context& context) -> std::unique_ptr<reader> {
          return std::make_unique<sql::sql_reader>(sql::dialect::postgresql,
                                                   std::make_unique<pg_runner>(context.executor, pg_options::from(cs)));
        },
    });
  }
}

}  // namespace osprof::drivers
