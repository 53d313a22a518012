#include <stdio.h>

int main(void)
{
	puts("siphond " SIPHON_VERSION);
	return 0;
}
