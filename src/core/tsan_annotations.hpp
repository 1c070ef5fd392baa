// ThreadSanitizer cannot see moodycamel's synchronisation (relaxed loads plus
// std::atomic_thread_fence, which GCC's TSan does not model), so it reports the queue's
// element copies as races. In TSan builds osprof hides the queue's own memory accesses and
// states the happens-before the queue provides: a producer releases before it enqueues, the
// consumer acquires after it dequeues. osprof's own synchronisation stays fully checked.
#pragma once

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>

extern "C" {
void AnnotateIgnoreReadsBegin(const char* file, int line);
void AnnotateIgnoreReadsEnd(const char* file, int line);
void AnnotateIgnoreWritesBegin(const char* file, int line);
void AnnotateIgnoreWritesEnd(const char* file, int line);
}

namespace osprof::detail {
struct tsan_queue_access {
  explicit tsan_queue_access(void* queue, bool producer) : queue_(queue), producer_(producer) {
    if (producer_) __tsan_release(queue_);
    AnnotateIgnoreReadsBegin(__FILE__, __LINE__);
    AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
  }
  ~tsan_queue_access() {
    AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
    AnnotateIgnoreReadsEnd(__FILE__, __LINE__);
    if (!producer_) __tsan_acquire(queue_);
  }
  void* queue_;
  bool producer_;
};
}  // namespace osprof::detail
#define OSPROF_QUEUE_ACCESS(queue, producer) ::osprof::detail::tsan_queue_access osprof_tsan_guard_((queue), (producer))
#else
#define OSPROF_QUEUE_ACCESS(queue, producer) static_cast<void>(0)
#endif
