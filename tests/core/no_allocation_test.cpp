// Proves the hot path's promise: with a profiler initialised and the emitter running, trace
// points whose name + info fit the inline budget make no heap allocation on the caller's
// thread. Every allocation entry point of this process is counted per thread.
#include <osprof/emitter.hpp>
#include <osprof/profiler.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <stdexcept>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {
constinit thread_local bool counting = false;
constinit thread_local long allocations = 0;
void note() {
  if (counting) ++allocations;
}
}  // namespace

// The C allocation functions (moodycamel and std::malloc use these)...
extern "C" void* malloc(std::size_t n) {
  note();
  return __libc_malloc(n);
}
extern "C" void* calloc(std::size_t a, std::size_t b) {
  note();
  return __libc_calloc(a, b);
}
extern "C" void* realloc(void* p, std::size_t n) {
  note();
  return __libc_realloc(p, n);
}
extern "C" void* aligned_alloc(std::size_t alignment, std::size_t n) {
  note();
  return __libc_memalign(alignment, n);
}
extern "C" int posix_memalign(void** out, std::size_t alignment, std::size_t n) {
  note();
  *out = __libc_memalign(alignment, n);
  return *out != nullptr ? 0 : ENOMEM;
}
extern "C" void free(void* p) { __libc_free(p); }

// ...and the C++ ones.
void* operator new(std::size_t n) {
  note();
  if (void* p = __libc_malloc(n != 0 ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  note();
  if (void* p = __libc_memalign(static_cast<std::size_t>(a), n != 0 ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { __libc_free(p); }
void operator delete[](void* p) noexcept { __libc_free(p); }
void operator delete(void* p, std::size_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::size_t) noexcept { __libc_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { __libc_free(p); }

namespace {

struct counted {
  counted() {
    allocations = 0;
    counting = true;
  }
  ~counted() { counting = false; }
  long count() const { return allocations; }
};

void traced_function() { OSPROF_TRACE_FUNCTION("rpc", {{"call", "compute"}}); }

TEST(NoAllocation, TheCounterSeesAllocations) {
  // The test below is only worth something if allocations are seen.
  counted c;
  delete new int(1);
  std::free(std::malloc(8));
  EXPECT_EQ(c.count(), 2);
}

TEST(NoAllocation, TracePointsWithinTheInlineBudgetDoNotAllocate) {
  // Default capacity: the queue preallocates blocks for it. A producer that outruns the worker
  // hits the cap and drops (counted); it never needs a block that is not there.
  osprof::options o;
  o.connection_string = "null://";
  osprof::emitter em(o);
  osprof::init("SECRET_KEY");
  for (int i = 0; i < 1000; ++i) {  // warm-up: the producer's blocks exist
    osprof::start("warm");
    osprof::stop();
  }
  em.flush(std::chrono::seconds(10));

  long seen = -1;
  {
    counted c;
    for (int i = 0; i < 100000; ++i) {
      osprof::start("db", {{"db", {{"statement", "SELECT * FROM t WHERE id = ?"}, {"params", i}}}});
      osprof::stop();
      {
        osprof::trace t("ctx", {{"ok", true}, {"ratio", 0.5}});
      }
      traced_function();
    }
    seen = c.count();
  }
  EXPECT_EQ(seen, 0);
  ASSERT_TRUE(em.flush(std::chrono::seconds(30)));
  const auto s = em.get_stats();
  EXPECT_EQ(s.spilled_events, 0u);
  EXPECT_EQ(s.emitted, s.written + s.dropped());
  EXPECT_GE(s.emitted, 600000u);

  // Above the inline budget the payload is copied to the heap once: counted, as documented.
  {
    const std::string big(1000, 'x');
    counted c;
    osprof::start("big", {{"blob", big}});
    osprof::stop();
    seen = c.count();
  }
  EXPECT_EQ(seen, 1);
  em.flush(std::chrono::seconds(10));
  EXPECT_EQ(em.get_stats().spilled_events, 1u);
  osprof::clean();
}

TEST(NoAllocation, WithoutAProfilerNothingHappens) {
  osprof::clean();
  counted c;
  for (int i = 0; i < 1000; ++i) {
    osprof::start("x", {{"k", i}});
    osprof::stop();
    osprof::trace t("y");
  }
  EXPECT_EQ(c.count(), 0);
}

}  // namespace
