"""Embedded default data: brain MRI, mammogram and breast DCE-MRI phantoms, written in real layouts."""
