# Fuzz targets of the X.509, did:x509 and signed-note parts of the cose module.
#
# The module's own sources are compiled into each target as well: scitt_fuzz_target instruments
# only the target's SOURCES, and the library objects it links are built without coverage
# instrumentation, so libFuzzer would get no feedback from the code under test. Every symbol of
# these files is then defined by the target itself and their archive members are never pulled in.
if(TARGET scitt_cose)
  file(GLOB x509_fuzz_lib ${CMAKE_SOURCE_DIR}/cose/x509*.c ${CMAKE_SOURCE_DIR}/cose/didx509*.c)
  file(GLOB note_fuzz_lib ${CMAKE_SOURCE_DIR}/cose/note*.c)
  scitt_fuzz_target(x509_didx509 SOURCES x509_didx509.c ${x509_fuzz_lib} LIBS scitt)
  scitt_fuzz_target(x509_chain SOURCES x509_chain.c ${x509_fuzz_lib} LIBS scitt)
  scitt_fuzz_target(note_verify SOURCES note_verify.c ${note_fuzz_lib} LIBS scitt)
  foreach(t x509_didx509 x509_chain note_verify)
    foreach(kind replay fuzz)
      if(TARGET ${kind}_${t})
        target_include_directories(${kind}_${t} PRIVATE ${CMAKE_SOURCE_DIR}/cose)
      endif()
    endforeach()
  endforeach()
endif()
