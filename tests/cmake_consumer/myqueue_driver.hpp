// myqueue://NAME: a backend written outside osprof's tree, on the public driver contract
// (<osprof/driver.hpp>) only, as a team would add its in-house queue. Events go into a
// process-wide queue per NAME; the reader gives a trace back for the report API.
#pragma once

namespace myqueue {

/// Registers myqueue:// with osprof (writer and reader).
void register_driver();

}  // namespace myqueue
