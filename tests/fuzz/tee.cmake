# TEE evidence parsers and the full SNP verification (tests/fuzz/tee_*.c).
if(TARGET scitt_tee)
  scitt_fuzz_target(tee_parse SOURCES tee_parse.c LIBS scitt)
  scitt_fuzz_target(tee_verify SOURCES tee_verify.c LIBS scitt)
  # tee_verify reads the real samples; the replay test finds them like the unit tests do.
  target_compile_definitions(replay_tee_verify PRIVATE
    SCITT_TEST_DATA_DEFAULT="${SCITT_TEST_DATA}")
  set_tests_properties(fuzz.tee_verify PROPERTIES ENVIRONMENT "SCITT_TEST_DATA=${SCITT_TEST_DATA}")
  if(TARGET fuzz_tee_verify)
    target_compile_definitions(fuzz_tee_verify PRIVATE
      SCITT_TEST_DATA_DEFAULT="${SCITT_TEST_DATA}")
  endif()
endif()
if(TARGET scitt_tee)
  scitt_fuzz_target(attest_verify SOURCES attest_verify.c LIBS scitt)
endif()
# Intel DCAP: the quote parser with the whole verifier behind it (real collateral from
# tests/data/dcap), and the collateral parsers (JSON, chains, CRLs, PCK extension, dates).
if(TARGET scitt_tee)
  scitt_fuzz_target(dcap_quote SOURCES dcap_quote.c LIBS scitt)
  scitt_fuzz_target(dcap_collateral SOURCES dcap_collateral.c LIBS scitt)
  target_compile_definitions(replay_dcap_quote PRIVATE SCITT_SOURCE_DIR_DEFAULT="${CMAKE_SOURCE_DIR}")
  set_tests_properties(fuzz.dcap_quote PROPERTIES ENVIRONMENT "SCITT_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
  if(TARGET fuzz_dcap_quote)
    target_compile_definitions(fuzz_dcap_quote PRIVATE SCITT_SOURCE_DIR_DEFAULT="${CMAKE_SOURCE_DIR}")
  endif()
endif()
# Attested key release: join bundles (the holder's input) and answers (the joiner's input).
if(TARGET scitt_tee)
  scitt_fuzz_target(keyrel_join SOURCES keyrel_join.c LIBS scitt)
endif()
