# Fuzz targets of the X.509, did:x509 and signed-note parts of the cose module.
if(TARGET scitt_cose)
  scitt_fuzz_target(x509_didx509 SOURCES x509_didx509.c LIBS scitt)
  scitt_fuzz_target(x509_chain SOURCES x509_chain.c LIBS scitt)
  scitt_fuzz_target(note_verify SOURCES note_verify.c LIBS scitt)
endif()
