-- The market department's own table of business licences, as the demo (demo.sh) and the soak
-- (bench/soak.sh) create it in the department's SQLite database; the outbox and its triggers
-- come from `sharebus-producer --print-ddl sqlite --table business_license`.
CREATE TABLE business_license (
  uscc                 TEXT PRIMARY KEY,
  name                 TEXT NOT NULL,
  legal_representative TEXT NOT NULL,
  registered_capital   REAL NOT NULL,
  business_scope       TEXT,
  status               TEXT NOT NULL,
  established_on       TEXT NOT NULL,  -- 'YYYY-MM-DD'
  address              TEXT,
  updated_at           TEXT NOT NULL   -- 'YYYY-MM-DD HH:MM:SS.SSS', UTC
);
