// Checkpoints a WAL database from a connection and a thread of its own, so that a writer's
// commits do not wait for them. A checkpoint copies the WAL back into the database file and,
// unless synchronous=off, syncs both; run by the committing connection (SQLite's automatic
// checkpoint) it took ~40 % of the sqlite:// writer's time. PASSIVE checkpoints never wait for
// the writer or for readers: what a reader still uses stays in the WAL for the next one.
//
// Header-only and free of osprof types: bench/sqlite_floor.cpp writes the way the driver does.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace osprof::detail::sqlite {

class wal_checkpointer {
 public:
  /// Takes over the checkpoints of `writer` (a connection to the WAL database at `path`): its
  /// automatic ones are turned off, and a checkpoint starts once a commit leaves the WAL at
  /// `checkpoint_bytes` or more. `synchronous` is the writer's setting (the syncs a checkpoint
  /// makes follow the checkpointing connection's).
  wal_checkpointer(sqlite3* writer, const std::string& path, const std::string& synchronous,
                   std::uint64_t checkpoint_bytes)
      : writer_(writer) {
    sqlite3_wal_autocheckpoint(writer_, 0);
    std::int64_t page_size = 4096;
    sqlite3_stmt* q = nullptr;
    if (sqlite3_prepare_v2(writer_, "PRAGMA page_size", -1, &q, nullptr) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) {
      page_size = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    const std::uint64_t pages = checkpoint_bytes / static_cast<std::uint64_t>(page_size > 0 ? page_size : 4096);
    checkpoint_pages_ = pages < 1 ? 1 : pages > (1u << 28) ? (1 << 28) : static_cast<int>(pages);
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) == SQLITE_OK &&
        sqlite3_exec(db_, ("PRAGMA synchronous=" + synchronous).c_str(), nullptr, nullptr, nullptr) == SQLITE_OK) {
      thread_ = std::thread([this] { run(); });
    } else {
      sqlite3_close_v2(db_);  // the writer then checkpoints itself (after_commit)
      db_ = nullptr;
    }
    sqlite3_wal_hook(writer_, &wal_checkpointer::after_commit, this);
  }
  wal_checkpointer(const wal_checkpointer&) = delete;
  wal_checkpointer& operator=(const wal_checkpointer&) = delete;

  /// Call with no commit running on the writer.
  ~wal_checkpointer() {
    sqlite3_wal_hook(writer_, nullptr, nullptr);
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
    sqlite3_close_v2(db_);
  }

 private:
  // SQLite calls this on the writing thread after each commit, with the WAL's size in pages.
  static int after_commit(void* self, sqlite3* writer, const char*, int wal_pages) {
    auto& c = *static_cast<wal_checkpointer*>(self);
    if (wal_pages < c.checkpoint_pages_) return SQLITE_OK;
    // At four times the size the checkpointer is not keeping up (or has no connection): the
    // writer checkpoints itself, as SQLite's automatic checkpoint would, to keep the WAL bounded.
    if (c.db_ == nullptr || wal_pages / 4 >= c.checkpoint_pages_) {
      sqlite3_wal_checkpoint_v2(writer, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      return SQLITE_OK;
    }
    {
      std::lock_guard lock(c.mutex_);
      c.requested_ = true;
    }
    c.wake_.notify_one();
    return SQLITE_OK;
  }

  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [this] { return requested_ || stopping_; });
      if (stopping_) return;
      requested_ = false;
      lock.unlock();
      // Failures (busy, I/O) leave the frames in the WAL: the next request tries again.
      sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      lock.lock();
    }
  }

  sqlite3* writer_;
  sqlite3* db_ = nullptr;
  int checkpoint_pages_ = 1;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace osprof::detail::sqlite
