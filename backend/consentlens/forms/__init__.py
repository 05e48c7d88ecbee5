"""Printable consent forms (ReportLab) and the register of printed forms."""
