# The storage backends side by side (LMDB and a PostgreSQL server the bench starts on loopback).
if(TARGET scitt_ledger)
  scitt_executable(storage_bench SOURCES storage_bench.c LIBS scitt_ledger scitt)
  target_include_directories(storage_bench PRIVATE ${CMAKE_SOURCE_DIR}/tests)
endif()
