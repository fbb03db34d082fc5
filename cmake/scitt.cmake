# Shared build settings and helpers for every scittd target.

add_compile_definitions(_GNU_SOURCE)

set(SCITT_WARNINGS
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wstrict-prototypes -Wmissing-prototypes
    -Wvla -Wformat=2)
if(WERROR)
  list(APPEND SCITT_WARNINGS -Werror)
endif()

if(SANITIZE AND VALGRIND)
  message(FATAL_ERROR "SANITIZE and VALGRIND exclude each other")
endif()
if(SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined -fno-sanitize-recover=all)
endif()

if(FUZZ AND NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "-DFUZZ=ON needs clang (CC=clang)")
endif()
if(FUZZ)
  # Instrument every module, not only the fuzz entry points: libFuzzer's feedback comes from the
  # code under test. Only the fuzz_* binaries link libFuzzer's main.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# scitt_module(NAME [SOURCES ...] [PUBLIC_LIBS ...] [PRIVATE_LIBS ...])
# One object library per folder; libscitt and the executables are made from these. Without
# SOURCES, every .c file of the folder is compiled (so parallel work on one module does not
# collide in its CMakeLists.txt).
function(scitt_module name)
  cmake_parse_arguments(M "" "" "SOURCES;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  if(NOT M_SOURCES)
    file(GLOB M_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.c)
  endif()
  add_library(${name} OBJECT ${M_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/include
                                     PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${SCITT_WARNINGS})
  # Only what a public header marks SCITT_API is exported from the shared libraries made of
  # these objects (libscitt, libscitt-client); static links are unaffected.
  set_target_properties(${name} PROPERTIES C_VISIBILITY_PRESET hidden)
  if(M_PUBLIC_LIBS)
    target_link_libraries(${name} PUBLIC ${M_PUBLIC_LIBS})
  endif()
  if(M_PRIVATE_LIBS)
    target_link_libraries(${name} PRIVATE ${M_PRIVATE_LIBS})
  endif()
endfunction()

# scitt_executable(NAME SOURCES ... LIBS ...)
function(scitt_executable name)
  cmake_parse_arguments(E "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${E_SOURCES})
  target_compile_options(${name} PRIVATE ${SCITT_WARNINGS})
  target_link_libraries(${name} PRIVATE ${E_LIBS})
endfunction()

# scitt_unit_test(NAME SOURCES ... LIBS ... [LABELS ...] [TIMEOUT s] [ARGS ...])
# A cmocka test binary registered with ctest. Tests get SCITT_TEST_DATA (tests/data) and the source
# dir in their environment so they can find vectors.
find_package(PkgConfig REQUIRED)
pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
function(scitt_unit_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_compile_options(${name} PRIVATE ${SCITT_WARNINGS})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  if(VALGRIND)
    # Under memcheck: any memory error or definite/indirect leak fails the test. Valgrind runs
    # code tens of times slower, hence the longer timeout.
    add_test(NAME ${name} COMMAND valgrind --quiet --error-exitcode=99 --leak-check=full
      --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
      --track-origins=yes --suppressions=${CMAKE_SOURCE_DIR}/tests/valgrind.supp
      $<TARGET_FILE:${name}> ${T_ARGS})
    math(EXPR T_TIMEOUT "${T_TIMEOUT} * 10")
  else()
    add_test(NAME ${name} COMMAND ${name} ${T_ARGS})
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
    SKIP_RETURN_CODE 77 ENVIRONMENT "SCITT_TEST_DATA=${SCITT_TEST_DATA};SCITT_SOURCE_DIR=${CMAKE_SOURCE_DIR};SCITT_BINARY_DIR=${CMAKE_BINARY_DIR}")
endfunction()

# scitt_fuzz_target(NAME SOURCES ... LIBS ... CORPUS dir)
# With -DFUZZ=ON: a libFuzzer binary. Always: a replay binary that runs every corpus file through
# the same entry point, registered with ctest (label fuzz-regress), so a crash found once stays fixed.
function(scitt_fuzz_target name)
  cmake_parse_arguments(F "" "CORPUS" "SOURCES;LIBS" ${ARGN})
  set(corpus ${CMAKE_SOURCE_DIR}/tests/fuzz/corpus/${name})
  add_executable(replay_${name} ${F_SOURCES} ${CMAKE_SOURCE_DIR}/tests/fuzz/replay.c)
  target_compile_options(replay_${name} PRIVATE ${SCITT_WARNINGS})
  target_include_directories(replay_${name} PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(replay_${name} PRIVATE ${F_LIBS})
  add_test(NAME fuzz.${name} COMMAND replay_${name} ${corpus})
  set_tests_properties(fuzz.${name} PROPERTIES LABELS fuzz-regress TIMEOUT 300)
  if(FUZZ)
    add_executable(fuzz_${name} ${F_SOURCES})
    target_compile_options(fuzz_${name} PRIVATE ${SCITT_WARNINGS})
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    target_include_directories(fuzz_${name} PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR}/tests)
    target_link_libraries(fuzz_${name} PRIVATE ${F_LIBS})
    set_property(GLOBAL APPEND PROPERTY SCITT_FUZZ_TARGETS fuzz_${name})
  endif()
endfunction()
