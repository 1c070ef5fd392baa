// null:// discards every event: the baseline for measuring osprof's own overhead.
#include <osprof/driver.hpp>
#include <osprof/drivers/null.hpp>

namespace osprof::drivers {

namespace {

class null_writer final : public writer {
 public:
  boost::asio::awaitable<write_result> write(const batch&) override { co_return write_result::success(); }
  // It reads nothing: the worker does not format the events at all.
  record_needs needs() const noexcept override { return record_needs::nothing(); }
};

}  // namespace

void register_null() {
  register_driver({
      .scheme = "null",
      .summary = "null:// discards events (measures osprof's own overhead)",
      .make_writer = [](const connection_string& cs, const driver_context&) -> std::unique_ptr<writer> {
        cs.check_params({});
        return std::make_unique<null_writer>();
      },
      .why_no_reader = "null:// is write-only: it discards every event, so there is nothing to read back",
  });
}

}  // namespace osprof::drivers
