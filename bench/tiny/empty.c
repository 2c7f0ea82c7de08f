/* empty.c: the floor of a static musl program: what any child costs before it does anything. */
int main(void) { return 0; }
