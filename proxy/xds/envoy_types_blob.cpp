// Embeds the Envoy descriptor set with the assembler's .incbin, as meshctl does
// (cli/proxy_config/descriptor_blob.cpp): no generated source, no array literal for the
// compiler. The set's SHA-256 is a compile definition so ccache rebuilds this object when the
// set changes.
#include <string_view>

#ifndef MESH_ENVOY_DESCRIPTOR_SET
#error "MESH_ENVOY_DESCRIPTOR_SET must name the descriptor set file (see envoy_descriptors.cmake)"
#endif

extern "C" const char meshProxyEnvoyDescriptorsBegin[];
extern "C" const char meshProxyEnvoyDescriptorsEnd[];

// clang-format off
__asm__(
    ".section .rodata\n"
    ".global meshProxyEnvoyDescriptorsBegin\n"
    ".balign 16\n"
    "meshProxyEnvoyDescriptorsBegin:\n"
    ".incbin \"" MESH_ENVOY_DESCRIPTOR_SET "\"\n"
    ".global meshProxyEnvoyDescriptorsEnd\n"
    "meshProxyEnvoyDescriptorsEnd:\n"
    ".byte 0\n"
    ".previous\n");
// clang-format on

namespace mesh::proxy {

std::string_view envoyDescriptorSetBytes() {
  static const char* const kSha = MESH_ENVOY_DESCRIPTOR_SET_SHA256;  // see file comment
  (void)kSha;
  return {meshProxyEnvoyDescriptorsBegin,
          static_cast<size_t>(meshProxyEnvoyDescriptorsEnd - meshProxyEnvoyDescriptorsBegin)};
}

}  // namespace mesh::proxy
