# The whole Envoy v3 API (plus the xds/udpa types Envoy dumps name) as one FileDescriptorSet,
# embedded in meshctl and meshproxy. mesh_envoy_api compiles only the types our code uses; a real Envoy
# config dump names many more inside google.protobuf.Any (Wasm, TypedStruct, matcher inputs,
# access loggers...). `proxy-config` reads and prints those through a descriptor pool built from
# this set at run time, so they keep their fields instead of being dropped.
# Included once, from api/CMakeLists.txt (after MESH_ISTIO_FILTER_PROTOS is set); defines
# MESH_ENVOY_DESCRIPTOR_SET and its SHA-256.

set(_deps "${MESH_ENVOY_PROTO_DEPS}")
set(_proto_path
  "${CMAKE_BINARY_DIR}/envoy-protos"   # api/'s patched validate.proto shadows the package's
  "${_deps}/envoy-api" "${_deps}/googleapis" "${_deps}/protoc-gen-validate" "${_deps}/xds"
  "${Protobuf_INCLUDE_DIR}" "${CMAKE_CURRENT_SOURCE_DIR}")
list(TRANSFORM _proto_path PREPEND "-I" OUTPUT_VARIABLE _proto_args)

file(GLOB_RECURSE _envoy RELATIVE "${_deps}/envoy-api" "${_deps}/envoy-api/envoy/*.proto")
list(FILTER _envoy INCLUDE REGEX "/v3/")
file(GLOB_RECURSE _xds RELATIVE "${_deps}/xds"
  "${_deps}/xds/xds/type/*.proto" "${_deps}/xds/udpa/type/*.proto")
# Istio's own filter configs (MESH_ISTIO_FILTER_PROTOS, api/istio/envoy/...): istiod sends them
# too, so proxies must accept them and dumps print them.
set(_files ${_envoy} ${_xds} ${MESH_ISTIO_FILTER_PROTOS})
list(SORT _files)

# A few files import protos the package does not ship (OpenTelemetry, OpenCensus): protoc names
# the importing file, which is dropped, and the rest is tried again.
set(MESH_ENVOY_DESCRIPTOR_SET "${CMAKE_CURRENT_BINARY_DIR}/envoy_api_descriptors.pb")
foreach(_attempt RANGE 8)
  execute_process(
    COMMAND ${Protobuf_PROTOC_EXECUTABLE} ${_proto_args} --include_imports
            --descriptor_set_out=${MESH_ENVOY_DESCRIPTOR_SET} ${_files}
    WORKING_DIRECTORY "${_deps}/envoy-api"
    RESULT_VARIABLE _rc ERROR_VARIABLE _err)
  if(_rc EQUAL 0)
    break()
  endif()
  string(REGEX MATCHALL "[^\n:]+\\.proto:[0-9]+:[0-9]+: Import \"" _bad "${_err}")
  list(TRANSFORM _bad REPLACE ":[0-9]+:[0-9]+: Import \"$" "")
  list(REMOVE_DUPLICATES _bad)
  list(LENGTH _files _before)
  if(_bad)
    list(REMOVE_ITEM _files ${_bad})
  endif()
  list(LENGTH _files _after)
  if(_after EQUAL _before)
    message(FATAL_ERROR "protoc could not build the Envoy descriptor set:\n${_err}")
  endif()
endforeach()
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "protoc could not build the Envoy descriptor set:\n${_err}")
endif()
file(SHA256 "${MESH_ENVOY_DESCRIPTOR_SET}" MESH_ENVOY_DESCRIPTOR_SET_SHA256)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_FILE}")
foreach(_proto IN LISTS MESH_ISTIO_FILTER_PROTOS)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/${_proto}")
endforeach()
