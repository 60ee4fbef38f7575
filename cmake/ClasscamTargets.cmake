# Helpers that give every target of ours the same warnings and the same test wiring.
include_guard(GLOBAL)

set(CLASSCAM_WARNINGS -Wall -Wextra -Werror -Wpedantic -Wshadow -Wnon-virtual-dtor
                      -Wold-style-cast -Wcast-align -Woverloaded-virtual
                      -Wimplicit-fallthrough)

# classcam_library(<name> SOURCES ... [DEPS ...] [PRIVATE_DEPS ...])
# A static library for one concern. Its include root is the repository root, so code includes
# "common/util/uuid.hpp", "firmware/spool/spool.hpp" ... and the path says where a header lives.
function(classcam_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${CLASSCAM_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# classcam_executable(<name> SOURCES ... [DEPS ...])
function(classcam_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${CLASSCAM_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()

# classcam_test(<name> SOURCES ... [DEPS ...] [LABELS ...] [TIMEOUT seconds])
# One GoogleTest binary; each TEST becomes its own ctest entry so `ctest -j` spreads them.
function(classcam_test name)
  if(NOT CLASSCAM_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${CLASSCAM_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  # Tests find the example configs and the binaries they drive through these, run by ctest or by hand.
  target_compile_definitions(${name} PRIVATE CLASSCAM_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                             CLASSCAM_BINARY_DIR="${PROJECT_BINARY_DIR}")
  set(props TIMEOUT ${ARG_TIMEOUT})
  if(ARG_LABELS)
    list(APPEND props LABELS "${ARG_LABELS}")
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES ${props})
endfunction()
