// RESP2, the Redis wire protocol: an encoder that appends commands (arrays of bulk strings)
// to a buffer, so a whole pipeline goes out in one write, and an incremental parser that
// turns whatever bytes have arrived into complete replies. The parser keeps its place inside
// nested arrays, so a 20,000-element LRANGE reply is parsed once however it is split.
#pragma once

#include <cstdint>
#include <deque>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace osprof::detail::redis {

/// One reply.
struct resp_value {
  enum class kind : std::uint8_t { simple, error, integer, bulk, null, array };

  kind type = kind::null;
  std::int64_t integer = 0;
  std::string text;                  ///< simple string, error or bulk string
  std::vector<resp_value> elements;  ///< array

  bool is_error() const noexcept { return type == kind::error; }
  bool is_null() const noexcept { return type == kind::null; }
  bool is_array() const noexcept { return type == kind::array; }
  bool is_ok() const noexcept { return type == kind::simple && text == "OK"; }
  /// The error's first word ("MOVED", "WRONGPASS", "ERR"), empty for other replies.
  std::string_view error_code() const noexcept;
  /// A short description for messages: the error text, or the kind of value.
  std::string describe() const;
};

/// Thrown when the peer sends bytes that are not RESP2 (e.g. a non-Redis service).
class protocol_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Appends commands in RESP2 form.
class command_writer {
 public:
  explicit command_writer(std::string& out) noexcept : out_(out) {}

  /// Starts a command of `args` arguments (the command name counts); add them with arg().
  command_writer& begin(std::size_t args);
  command_writer& arg(std::string_view value);
  command_writer& arg(std::int64_t value);

  /// A whole command at once.
  template <typename... Args>
  command_writer& command(Args&&... args) {
    begin(sizeof...(Args));
    (arg(std::forward<Args>(args)), ...);
    return *this;
  }

 private:
  std::string& out_;
};

/// Parses replies from a byte stream fed in pieces.
class resp_parser {
 public:
  /// Limits against a hostile or confused peer.
  static constexpr std::size_t max_line = 64 * 1024;
  static constexpr std::int64_t max_bulk = 512LL * 1024 * 1024;  // Redis's proto-max-bulk-len
  static constexpr std::size_t max_depth = 32;
  /// One reply, nested arrays included: at most this many elements and bytes. Far above what
  /// osprof asks for (a trace's events, a SCAN page), far below what would exhaust memory.
  static constexpr std::int64_t max_reply_elements = std::int64_t{1} << 22;
  static constexpr std::int64_t max_reply_bytes = std::int64_t{256} << 20;

  /// Consumes what it can of `data` and returns how many bytes it used; the caller keeps the
  /// rest and passes it again with more bytes appended. Throws protocol_error on bad input.
  std::size_t parse(std::string_view data);

  bool has_reply() const noexcept { return !ready_.empty(); }
  std::size_t ready_count() const noexcept { return ready_.size(); }
  resp_value take();
  /// Forgets partial state (after the connection is closed).
  void reset();

 private:
  void complete(resp_value value);

  struct frame {
    resp_value array;
    std::int64_t remaining = 0;
  };
  std::vector<frame> stack_;
  std::deque<resp_value> ready_;
  bool in_bulk_ = false;
  std::int64_t bulk_length_ = 0;
  std::int64_t reply_elements_ = 0;  ///< of the reply being parsed
  std::int64_t reply_bytes_ = 0;
};

/// Printable excerpt of bytes a peer sent, for messages ("HTTP/1.1 400 Bad Request...").
std::string printable_excerpt(std::string_view bytes, std::size_t max = 48);

}  // namespace osprof::detail::redis
