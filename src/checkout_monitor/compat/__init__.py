"""How our modules load: the paths of an earlier release (each piece says when it goes), and
names a package loads on first use."""
