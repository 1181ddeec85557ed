// placeholder: tests arrive with the implementation
