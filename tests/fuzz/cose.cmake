# Fuzz targets of the cose module (CBOR reader, Sign1, receipts, transparent statements, keys).
if(TARGET scitt_cose)
  foreach(t cbor_reader sign1_verify receipt_verify transparent_parse key_parse)
    scitt_fuzz_target(${t} SOURCES ${t}.c LIBS scitt)
  endforeach()
endif()
