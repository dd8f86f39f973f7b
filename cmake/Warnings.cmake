# Warnings for our own targets only; generated protobuf code gets none (see api/).
function(mesh_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
  if(MESH_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# A doctest binary per module, registered with CTest.
function(mesh_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${CMAKE_SOURCE_DIR}/tests/doctest_main.cpp ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} doctest::doctest)
  target_compile_definitions(${name} PRIVATE MESH_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  mesh_warnings(${name})
  add_test(NAME ${name} COMMAND ${name})
endfunction()
