// The messaging driver (CMake target osprof::messaging): messaging:// and the transport URLs
// rabbit://, rabbits://, amqp://: OSProfiler's default notifier, over RabbitMQ.
// osprof::register_builtin_drivers() (<osprof/drivers.hpp>) calls this when the driver is built.
#pragma once

namespace osprof::drivers {

/// Registers the driver's schemes with osprof::register_driver(). @note Thread safe.
void register_messaging();

}  // namespace osprof::drivers
