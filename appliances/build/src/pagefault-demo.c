/*
 * pagefault-demo: one demand-paging page fault, made visible for teaching.
 *
 * mmap() of an anonymous private page only reserves address space: the kernel
 * records the range (a VMA) but maps nothing in the page table. The first store
 * to it traps (a store/AMO page fault, scause 15, stval = the address), the
 * kernel finds the VMA, allocates a zeroed page, maps it and returns to the
 * same store, which then succeeds. The program prints the address before the
 * store and the minor-fault count before and after it (getrusage), so the
 * fault shows up as a "+1" even without a tracer.
 *
 * Exits 0 when the page reads back what was written, 1 otherwise.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

static long minor_faults(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
	return ru.ru_minflt;
}

int main(void)
{
	long page_size = sysconf(_SC_PAGESIZE);
	volatile unsigned char *page;
	long before, after;

	page = mmap(NULL, (size_t)page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		perror("pagefault-demo: mmap");
		return 1;
	}
	printf("pagefault-demo: mmap gave a %ld-byte page at %p (not mapped yet)\n",
	       page_size, (void *)page);
	/* stdio's buffer must not be the thing that faults between the two counts. */
	fflush(stdout);

	before = minor_faults();
	page[0] = 42; /* first touch: page fault, the kernel maps a zeroed page */
	after = minor_faults();

	printf("pagefault-demo: wrote page[0] = %d; minor page faults %ld -> %ld (+%ld)\n",
	       page[0], before, after, after - before);
	if (page[0] != 42 || page[1] != 0) {
		printf("pagefault-demo: FAIL page reads back %d %d, want 42 0\n",
		       page[0], page[1]);
		return 1;
	}
	munmap((void *)page, (size_t)page_size);
	return 0;
}
