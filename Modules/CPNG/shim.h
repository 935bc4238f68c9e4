// libpng's simplified API (png_image_*): errors come back in image.message, no longjmp crosses Swift.
// Composite macros are not imported into Swift, so they are re-exported as constants.
#include <png.h>
static const unsigned int CPNG_IMAGE_VERSION = PNG_IMAGE_VERSION;
static const unsigned int CPNG_FORMAT_GRAY = PNG_FORMAT_GRAY;
static const unsigned int CPNG_FORMAT_RGB = PNG_FORMAT_RGB;
static const unsigned int CPNG_FORMAT_RGBA = PNG_FORMAT_RGBA;
static const unsigned int CPNG_FORMAT_LINEAR_Y = PNG_FORMAT_LINEAR_Y;
static const unsigned int CPNG_FORMAT_LINEAR_RGB = PNG_FORMAT_LINEAR_RGB;
static const unsigned int CPNG_FORMAT_LINEAR_RGB_ALPHA = PNG_FORMAT_LINEAR_RGB_ALPHA;
