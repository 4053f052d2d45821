#include "piicrypt/secret_data.h"

#include <openssl/crypto.h>

#include <cstdint>

#include "absl/base/attributes.h"
#include "src/crypto/wipe.h"
#include "src/secrets/secure_heap.h"

namespace piicrypt {
namespace internal {

void SecureWipe(void* ptr, size_t size) {
  if (ptr == nullptr || size == 0) return;
  WipeInline(ptr, size);
}

namespace {

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// Zeroes the vector registers. Key bytes copied with SIMD instructions (memcpy, AES-NI, the
// SHA extensions) stay in them until overwritten, and whatever saves all registers to the
// stack later (the dynamic linker's lazy symbol binding, a signal frame) would write them
// into memory. All vector registers are caller-saved, so nothing live is lost.
__attribute__((target("avx"), noinline)) void ZeroAvxRegisters() {
  __asm__ volatile("vzeroall" ::
                       : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                         "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

// ZMM16 to ZMM31, which vzeroall leaves alone (glibc's memcpy uses them on AVX-512).
__attribute__((target("avx512f"), noinline)) void ZeroAvx512UpperRegisters() {
  __asm__ volatile(
      "vpxord %%zmm16, %%zmm16, %%zmm16\n\tvpxord %%zmm17, %%zmm17, %%zmm17\n\t"
      "vpxord %%zmm18, %%zmm18, %%zmm18\n\tvpxord %%zmm19, %%zmm19, %%zmm19\n\t"
      "vpxord %%zmm20, %%zmm20, %%zmm20\n\tvpxord %%zmm21, %%zmm21, %%zmm21\n\t"
      "vpxord %%zmm22, %%zmm22, %%zmm22\n\tvpxord %%zmm23, %%zmm23, %%zmm23\n\t"
      "vpxord %%zmm24, %%zmm24, %%zmm24\n\tvpxord %%zmm25, %%zmm25, %%zmm25\n\t"
      "vpxord %%zmm26, %%zmm26, %%zmm26\n\tvpxord %%zmm27, %%zmm27, %%zmm27\n\t"
      "vpxord %%zmm28, %%zmm28, %%zmm28\n\tvpxord %%zmm29, %%zmm29, %%zmm29\n\t"
      "vpxord %%zmm30, %%zmm30, %%zmm30\n\tvpxord %%zmm31, %%zmm31, %%zmm31" ::
          : "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24",
            "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
}

__attribute__((noinline)) void ZeroSseRegisters() {
  __asm__ volatile(
      "pxor %%xmm0, %%xmm0\n\tpxor %%xmm1, %%xmm1\n\tpxor %%xmm2, %%xmm2\n\t"
      "pxor %%xmm3, %%xmm3\n\tpxor %%xmm4, %%xmm4\n\tpxor %%xmm5, %%xmm5\n\t"
      "pxor %%xmm6, %%xmm6\n\tpxor %%xmm7, %%xmm7\n\tpxor %%xmm8, %%xmm8\n\t"
      "pxor %%xmm9, %%xmm9\n\tpxor %%xmm10, %%xmm10\n\tpxor %%xmm11, %%xmm11\n\t"
      "pxor %%xmm12, %%xmm12\n\tpxor %%xmm13, %%xmm13\n\tpxor %%xmm14, %%xmm14\n\t"
      "pxor %%xmm15, %%xmm15" ::
          : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
            "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

void ZeroVectorRegisters() {
  if (__builtin_cpu_supports("avx512f")) ZeroAvx512UpperRegisters();
  if (__builtin_cpu_supports("avx")) {
    ZeroAvxRegisters();
  } else {
    ZeroSseRegisters();
  }
}
#else
void ZeroVectorRegisters() {}
#endif

}  // namespace

ABSL_ATTRIBUTE_NOINLINE void BurnStack() {
  constexpr size_t kBurn = 32 * 1024;
  uint8_t scratch[kBurn];
  OPENSSL_cleanse(scratch, sizeof(scratch));  // not elided: OPENSSL_cleanse is opaque
  ZeroVectorRegisters();
}

void* AllocateSecret(size_t size) {
  if (size != 0 && CRYPTO_secure_malloc_initialized()) {
    // No file/line: a full heap returns null without queueing an OpenSSL error.
    if (void* p = CRYPTO_secure_malloc(size, nullptr, 0); p != nullptr) return p;
    NoteSecureHeapFull();
  }
  return ::operator new(size);
}

void FreeSecret(void* ptr, size_t size) noexcept {
  if (ptr == nullptr) return;
  if (CRYPTO_secure_allocated(ptr)) {
    CRYPTO_secure_clear_free(ptr, size, nullptr, 0);  // wipes the whole block
    return;
  }
  SecureWipe(ptr, size);
  ::operator delete(ptr);
}

}  // namespace internal

SecretData SecretDataFromBytes(absl::Span<const uint8_t> bytes) {
  return SecretData(bytes.begin(), bytes.end());
}

SecretData SecretDataFromString(absl::string_view bytes) {
  return SecretData(bytes.begin(), bytes.end());
}

bool SecretEquals(absl::Span<const uint8_t> a, absl::Span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool SecretEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace piicrypt
