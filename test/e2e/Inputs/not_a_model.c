/* A shared library that is not a Kiln model. */
int not_a_model(void) { return 0; }
