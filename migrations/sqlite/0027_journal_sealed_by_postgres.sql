-- Nothing on SQLite: Relais seals each entry (its one writer serialises appenders anyway).
SELECT 1;
