# Tools and inputs for generating the Envoy v3 API (api/CMakeLists.txt uses them).
# Everything comes from Debian packages (protobuf 3.21, gRPC 1.51) plus the npm package
# @grpc/grpc-js-xds, whose deps/ folder carries Envoy's protos and their imports.
include_guard(GLOBAL)

find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(Python3 REQUIRED COMPONENTS Interpreter)
find_program(MESH_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

# protoc comes from the same find_package as libprotobuf (FindProtobuf warns if their
# versions differ): generated code only compiles against the runtime of its own release.
if(NOT Protobuf_PROTOC_EXECUTABLE)
  message(FATAL_ERROR "protoc not found (install protobuf-compiler)")
endif()

set(MESH_ENVOY_PROTO_DEPS "${CMAKE_SOURCE_DIR}/node_modules/@grpc/grpc-js-xds/deps"
  CACHE PATH "deps/ folder of the npm package @grpc/grpc-js-xds (run `npm ci` first)")
if(NOT EXISTS "${MESH_ENVOY_PROTO_DEPS}/envoy-api/envoy")
  message(FATAL_ERROR "Envoy protos not found under ${MESH_ENVOY_PROTO_DEPS}; run `npm ci` "
    "in ${CMAKE_SOURCE_DIR}, or configure with -DMESH_BUILD_ENVOY_API=OFF")
endif()

# protoc search order. The build tree's copy comes first so its patched
# validate/validate.proto shadows the package's original (see api/README.md).
set(MESH_ENVOY_PROTO_PATCHED_DIR "${CMAKE_BINARY_DIR}/envoy-protos")
set(MESH_ENVOY_PROTO_PATH
  "${MESH_ENVOY_PROTO_PATCHED_DIR}"
  "${MESH_ENVOY_PROTO_DEPS}/envoy-api"
  "${MESH_ENVOY_PROTO_DEPS}/googleapis"
  "${MESH_ENVOY_PROTO_DEPS}/protoc-gen-validate"
  "${MESH_ENVOY_PROTO_DEPS}/xds"
  ${Protobuf_INCLUDE_DIRS})
