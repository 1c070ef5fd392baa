// null:// discards every event: the baseline for measuring osprof's own overhead.
#include "drivers/builtin.hpp"

namespace osprof::detail {

namespace {

class null_driver final : public driver {
 public:
  std::string_view scheme() const noexcept override { return "null"; }
  asio::awaitable<write_result> write(std::span<const event_record>) override { co_return write_result::success(); }
  bool can_read() const noexcept override { return false; }
};

}  // namespace

void register_null_driver(driver_registry& registry) {
  registry.add(
      "null",
      [](const connection_string& cs, const driver_context&) -> std::unique_ptr<driver> {
        cs.check_params({});
        return std::make_unique<null_driver>();
      },
      "null:// discards events (measures osprof's own overhead)");
}

}  // namespace osprof::detail
