if(TARGET scitt_ledger)
  scitt_executable(ledger_bench SOURCES ledger_bench.c LIBS scitt_ledger scitt)
endif()
