# common_unit
