/* alloc_counter.h: counts every allocation of the process while armed, by replacing malloc and its family. */
#ifndef ALLOC_COUNTER_H
#define ALLOC_COUNTER_H

/* Set around calls into the SDK; thread-local, so that no other thread's
 * allocations are counted. volatile: the compiler takes malloc for a
 * builtin that reads no global, and would move the stores around it. */
extern _Thread_local volatile int alloc_armed;
/* Calls to the allocator while armed. */
extern volatile long alloc_calls;

#endif /* ALLOC_COUNTER_H */
