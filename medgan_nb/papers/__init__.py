"""One module per paper key (`han2018`, `haarburger2019`, `korkinof2021`, `han2019`) and `common`, what two or more papers share."""
