#pragma once

#include <cstdio>
#include <cstdlib>

// Stops the fuzzer on a broken property: libFuzzer reports the abort as a
// crash and saves the input that caused it.
#define FUZZ_CHECK(cond)                                                          \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                               \
    }                                                                             \
  } while (0)
