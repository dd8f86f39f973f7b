// libFuzzer target: any bytes through the loader and the validators must give diagnostics,
// never a crash, a hang or unbounded memory.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/loader.h"
#include "core/validation/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mesh::core::LoadOptions options;
  auto loaded = mesh::core::loadBuffer("fuzz.yaml", std::string_view(reinterpret_cast<const char*>(data), size), options);
  auto diags = mesh::core::validateAll(loaded.resources);
  for (const auto& d : diags) (void)d.format();
  return 0;
}
