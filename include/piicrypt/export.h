// export.h: PIICRYPT_EXPORT marks the public API of the piicrypt libraries.
//
// The libraries are compiled with hidden symbol visibility (-fvisibility=hidden): in a
// shared build (libpiicrypt_core.so.0 and the other components) only what carries this
// macro is exported, so the ABI is the public headers of include/piicrypt/ and nothing
// else. In a static build the macro changes nothing for the application.
//
//   class PIICRYPT_EXPORT FieldCryptor { ... };
//   PIICRYPT_EXPORT std::string MaskValue(MaskStyle style, absl::string_view value);
#ifndef PIICRYPT_EXPORT_H_
#define PIICRYPT_EXPORT_H_

#if defined(__GNUC__) || defined(__clang__)
#define PIICRYPT_EXPORT __attribute__((visibility("default")))
#else
#define PIICRYPT_EXPORT
#endif

#endif  // PIICRYPT_EXPORT_H_
