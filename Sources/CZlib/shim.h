// zlib, for gzip-compressed answers (Debian: zlib1g-dev).
#include <zlib.h>
