// Embeds the descriptor set file with the assembler's .incbin: no generated source, no
// megabytes of array literals for the compiler. The file's SHA-256 is a compile definition so
// that ccache (which does not see .incbin inputs) rebuilds this object when the set changes.
#include "api/envoy_descriptor_set.h"

#ifndef MESH_ENVOY_DESCRIPTOR_SET
#error "MESH_ENVOY_DESCRIPTOR_SET must name the descriptor set file (see envoy_descriptors.cmake)"
#endif

extern "C" const char meshEnvoyDescriptorSetBegin[];
extern "C" const char meshEnvoyDescriptorSetEnd[];

// clang-format off
__asm__(
    ".section .rodata\n"
    ".global meshEnvoyDescriptorSetBegin\n"
    ".balign 16\n"
    "meshEnvoyDescriptorSetBegin:\n"
    ".incbin \"" MESH_ENVOY_DESCRIPTOR_SET "\"\n"
    ".global meshEnvoyDescriptorSetEnd\n"
    "meshEnvoyDescriptorSetEnd:\n"
    ".byte 0\n"
    ".previous\n");
// clang-format on

namespace mesh::api {

std::string_view envoyDescriptorSet() {
  static const char* const kSha = MESH_ENVOY_DESCRIPTOR_SET_SHA256;  // see file comment
  (void)kSha;
  return {meshEnvoyDescriptorSetBegin, static_cast<size_t>(meshEnvoyDescriptorSetEnd - meshEnvoyDescriptorSetBegin)};
}

}  // namespace mesh::api
