/* Error names, texts and classes, all made from SCITT_ERROR_LIST (scitt/base.h). */
#include "scitt/base.h"

const char *scitt_err_str(scitt_err err)
{
    switch (err) {
#define TEXT(name, number, cls, text)                                                              \
    case name:                                                                                     \
        return text;
        SCITT_ERROR_LIST(TEXT)
#undef TEXT
    }
    return "unknown error";
}

const char *scitt_err_name(scitt_err err)
{
    switch (err) {
#define NAME(name, number, cls, text)                                                              \
    case name:                                                                                     \
        return #name;
        SCITT_ERROR_LIST(NAME)
#undef NAME
    }
    return "SCITT_ERR_UNKNOWN";
}

scitt_errclass scitt_err_class(scitt_err err)
{
    switch (err) {
#define CLASS(name, number, cls, text)                                                             \
    case name:                                                                                     \
        return SCITT_ERRCLASS_##cls;
        SCITT_ERROR_LIST(CLASS)
#undef CLASS
    }
    return SCITT_ERRCLASS_INTERNAL;
}
