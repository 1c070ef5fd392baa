// osprof for Boost.Beast and Asio: everything in one include.
//   server.hpp          verify trace headers and trace a request handler (`wsgi` point)
//   client.hpp          trace an outgoing request and put the trace headers on it
//   traced_executor.hpp carry a trace across co_await, completion handlers and threads
#pragma once

#include <osprof_beast/client.hpp>
#include <osprof_beast/server.hpp>
#include <osprof_beast/traced_executor.hpp>
