# COSE benchmark: Sign1 verification against raw OpenSSL ECDSA, and receipt verification.
if(TARGET scitt_cose)
  scitt_executable(cose_bench SOURCES ${CMAKE_CURRENT_LIST_DIR}/cose_bench.c LIBS scitt)
  target_include_directories(cose_bench PRIVATE ${CMAKE_SOURCE_DIR}/tests)
endif()
