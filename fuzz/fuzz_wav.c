/* libFuzzer target for the WAV reader (siphon --play takes any file): any
 * input decodes or is refused with -EINVAL (or -ENOMEM), never read out of
 * bounds; what decodes has its samples in one block, freed here. */
#include "base/mem.h"
#include "media/media_int.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int16_t *pcm = NULL;
	size_t n = 0;
	int rc = media_wav_decode(data, size, &pcm, &n);

	if (rc != 0 && rc != -EINVAL && rc != -ENOMEM)
		abort();
	if (rc != 0 && pcm)
		abort(); /* nothing handed out on failure */
	if (rc == 0 && n > 0 && !pcm)
		abort();
	if (pcm) {
		volatile int16_t sink = pcm[n - 1]; /* the whole block is ours */
		(void)sink;
	}
	mem_free(pcm);
	return 0;
}
